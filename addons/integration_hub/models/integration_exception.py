from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..exceptions import (
    IntegrationBusinessError,
    ReviewRequiredError,
    UnmappedCodeError,
    WaitingForRecordError,
    error_text,
)

OPEN_STATES = ("open", "in_progress")
TODO = "mail.mail_activity_data_todo"


class IntegrationException(models.Model):
    """A business problem a person resolves before the message is retried."""

    _name = "integration.exception"
    _description = "Integration Exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    message_id = fields.Many2one(
        "integration.message",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    backend_id = fields.Many2one(related="message_id.backend_id", store=True)
    company_id = fields.Many2one(related="message_id.company_id", store=True, index=True)
    event_type = fields.Char(related="message_id.event_type", store=True)
    reference = fields.Char(related="message_id.reference", store=True, string="Business reference")
    business_domain = fields.Char(
        related="message_id.event_type_id.domain_id.code",
        store=True,
        string="Business domain",
        help="The business domain of the event type: a flow's menus show their own.",
    )
    kind = fields.Selection(
        [
            ("validation", "Invalid data"),
            ("unmapped_code", "Unmapped code"),
            ("unknown_record", "Unknown record"),
            ("waiting", "Waiting for a record"),
            ("conflict", "Conflict"),
            ("review", "Needs review"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
        readonly=True,
    )
    explanation = fields.Text(readonly=True, help="What went wrong, in plain words.")
    user_id = fields.Many2one(
        "res.users",
        string="Assigned to",
        tracking=True,
        help="Set when the exception opens by the routing rules (the backend's owner by "
        "default); the assignee gets an activity due within the backend's latency tier.",
    )
    team_id = fields.Many2one(
        "integration.team",
        tracking=True,
        index="btree_not_null",
        help="Set when a routing rule sends the exception to a team: its members see it in "
        "My exceptions while nobody holds it.",
    )
    state = fields.Selection(
        [
            ("open", "Open"),
            ("in_progress", "In progress"),
            ("resolved", "Resolved"),
            ("ignored", "Ignored"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="open",
        tracking=True,
        group_expand=True,
    )
    code_kind_id = fields.Many2one(
        "integration.code.kind",
        string="Unmapped code kind",
        readonly=True,
        ondelete="set null",
        help="What the unmapped code names (an unmapped code exception).",
    )
    external_code = fields.Char(
        string="Unmapped code", readonly=True, help="The code as the sending system wrote it."
    )
    can_map_code = fields.Boolean(compute="_compute_can_map_code")
    waiting_res_model = fields.Char(
        string="Waiting for model",
        readonly=True,
        help="The model of the record the message waits for; its arrival retries it.",
    )
    waiting_external_id = fields.Char(string="Waiting for", readonly=True)
    failure_count = fields.Integer(
        string="Failed attempts",
        default=1,
        readonly=True,
        help="How many times processing the message met this problem (retries included).",
    )
    last_seen_date = fields.Datetime(
        string="Last failed",
        default=fields.Datetime.now,
        readonly=True,
        help="When processing the message last met this problem.",
    )
    res_model = fields.Char(
        string="Record model",
        readonly=True,
        help="The model of the Odoo record concerned (a charge, an order, a receipt).",
    )
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    record_name = fields.Char(
        string="Record concerned",
        compute="_compute_record_name",
        help="The Odoo record the exception is about, when there is one.",
    )
    record_readable = fields.Boolean(compute="_compute_record_name")
    review_rule_id = fields.Many2one(
        "integration.review.rule",
        string="Review rule",
        readonly=True,
        ondelete="set null",
        help="The rule whose limit the message's data is over (a 'needs review' exception).",
    )
    approved_by_id = fields.Many2one("res.users", string="Approved by", readonly=True)
    approved_date = fields.Datetime(string="Approved on", readonly=True)
    resolution_note = fields.Text(tracking=True)
    retry_user_id = fields.Many2one(
        "res.users",
        string="Last retried by",
        readonly=True,
        help="Who asked for the last retry; they resolve the exception if it succeeds.",
    )
    resolved_by_id = fields.Many2one("res.users", string="Closed by", readonly=True)
    resolved_date = fields.Datetime(string="Closed on", readonly=True)

    @api.model
    def _identifying_fields(self):
        """What the exception is about and how it ended: written by the hub's own
        processing and actions (with elevated rights), never by a person over RPC,
        since Retry and Map code act on them with elevated rights."""
        return {
            "message_id",
            "kind",
            "explanation",
            "state",
            "code_kind_id",
            "external_code",
            "waiting_res_model",
            "waiting_external_id",
            "resolved_by_id",
            "resolved_date",
            "failure_count",
            "last_seen_date",
            "res_model",
            "res_id",
            "retry_user_id",
            "review_rule_id",
            "approved_by_id",
            "approved_date",
            "fix_res_model",
            "fix_res_id",
            # Related to the message: writing them would write the message.
            "backend_id",
            "company_id",
            "event_type",
            "reference",
            "business_domain",
        }

    def _check_identifying_write(self, fields_written):
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        refused = sorted(set(fields_written) & self._identifying_fields())
        if refused:
            raise AccessError(
                self.env._(
                    "Only the hub sets %(fields)s of an exception: use its buttons (Take it, "
                    "Retry, Ignore, Map code and retry).",
                    fields=", ".join(refused),
                )
            )

    def _check_may_resolve(self):
        """Resolving replays or cancels the message with elevated rights: only for the
        people of the exception's flow (its business domain), whatever calls it."""
        if self.env.su:
            return
        refused = self.filtered(
            lambda e: not e.sudo().message_id.event_type_id.domain_id._user_works_in()
        )
        if refused:
            raise AccessError(
                self.env._(
                    "You do not work in the flow of these exceptions: %(names)s.",
                    names=", ".join(refused.sudo().mapped("name")),
                )
            )

    @api.depends("kind", "message_id.name")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for exception in self:
            exception.name = f"{kinds.get(exception.kind)}: {exception.message_id.name}"

    @api.depends("res_model", "res_id")
    @api.depends_context("uid")
    def _compute_record_name(self):
        for exception in self:
            record = exception._record()
            name, readable = False, False
            if record:
                # The record's own name for those who may read it, its kind otherwise.
                try:
                    record.sudo(False).check_access("read")
                    name, readable = record.display_name, True
                except AccessError:
                    name = record._description
            exception.record_name = name
            exception.record_readable = readable

    def _record(self):
        """The Odoo record concerned, if it (still) exists."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].sudo().browse(self.res_id).exists() or None

    @api.depends("kind", "code_kind_id", "external_code", "state")
    @api.depends_context("uid")
    def _compute_can_map_code(self):
        for exception in self:
            exception.can_map_code = bool(
                exception.kind == "unmapped_code"
                and exception.code_kind_id
                and exception.external_code
                and exception.state in OPEN_STATES
                and exception.code_kind_id._user_may_map()
            )

    @api.model
    def _error_values(self, error):
        """What the exception remembers of ``error``, besides its kind and text."""
        values = {
            "code_kind_id": False,
            "external_code": False,
            "waiting_res_model": False,
            "waiting_external_id": False,
            "review_rule_id": False,
        }
        if isinstance(error, ReviewRequiredError):
            values["review_rule_id"] = error.rule_id
        if isinstance(error, UnmappedCodeError):
            values["code_kind_id"] = self.env["integration.code.kind"]._get(error.code_kind).id
            values["external_code"] = error.code
        if isinstance(error, WaitingForRecordError):
            values["waiting_res_model"] = error.res_model
            values["waiting_external_id"] = error.external_id
        return values

    @api.model
    def _record_values(self, message, error):
        """The link to the record ``error`` is about (or the one the message produced
        before), when it exists after the failed attempt was rolled back."""
        record = getattr(error, "record", None)
        if record is not None and record._name and len(record) == 1 and record.exists():
            return {"res_model": record._name, "res_id": record.id}
        if message.result_model and message.result_res_id:
            return {"res_model": message.result_model, "res_id": message.result_res_id}
        return {}

    @api.model
    def _open_for(self, message, error):
        """Open the message's exception for ``error``, or update the one still open.

        A retry that fails again keeps the same exception, with its assignee: it counts
        the attempt and says what failed this time. Only the message's success resolves
        it, only its cancellation cancels it.
        """
        kind = error.kind if isinstance(error, IntegrationBusinessError) else "validation"
        explanation = error_text(error)
        values = dict(
            self._error_values(error),
            **self._record_values(message, error),
            kind=kind,
            explanation=explanation,
            last_seen_date=fields.Datetime.now(),
        )
        if kind == "review":
            # Held by another rule after an approval: that one needs its own (the
            # earlier approval stays in the chatter).
            values.update(approved_by_id=False, approved_date=False)
        # The hub's own bookkeeping: identifying fields are written with elevated rights.
        current = message.exception_ids._awaiting_success()[:1].sudo()
        if not current:
            return self.sudo().create(dict(values, message_id=message.id)).sudo(self.env.su)
        same_cause = current.kind == kind and current.explanation == explanation
        # Open again (it needs someone again), still with its assignee.
        current.write(dict(values, failure_count=current.failure_count + 1, state="open"))
        current._todos().sudo().write({"note": explanation})
        current._post_note(
            self.env._("The retry failed again: %(error)s", error=explanation)
            if same_cause
            else self.env._("The retry failed for another reason: %(error)s", error=explanation)
        )
        return current.sudo(self.env.su)

    @api.model_create_multi
    def create(self, vals_list):
        rules = self.env["integration.exception.rule"]
        messages = self.env["integration.message"]
        for values in vals_list:
            if "user_id" not in values and values.get("message_id"):
                backend = messages.browse(values["message_id"]).backend_id
                user, team = rules._route(backend, values.get("kind") or "other")
                values.setdefault("team_id", team.id)
                values["user_id"] = user.id
        # The assignee is told by the activity, not by an e-mail from the hub's
        # technical user (which has no address).
        exceptions = super(
            IntegrationException, self.with_context(mail_auto_subscribe_no_notify=True)
        ).create(vals_list)
        exceptions.filtered("user_id")._schedule_activity()
        return exceptions

    def write(self, vals):
        self._check_identifying_write(vals)
        result = super().write(vals)
        if vals.get("user_id"):
            self.filtered(lambda e: e.state in OPEN_STATES)._schedule_activity()
        return result

    def _schedule_activity(self):
        """A to-do for the assignee, due within the backend's latency tier; moved to
        a new assignee rather than doubled."""
        now = fields.Datetime.now()
        # No e-mail from the hub's technical user (it has no address): the activity
        # shows in the assignee's activities and on the exception.
        quiet = self.with_context(mail_activity_quick_update=True)
        for exception in quiet:
            backend = exception.backend_id.sudo()
            minutes = backend._tier_target_minutes(backend.latency_tier)
            deadline = fields.Date.to_date(now + timedelta(minutes=minutes))
            todos = exception._todos()
            if todos:
                todos.sudo().write({"user_id": exception.user_id.id})
                continue
            exception.sudo().activity_schedule(
                TODO,
                date_deadline=deadline,
                summary=self.env._("Resolve: %(name)s", name=exception.name),
                note=exception.explanation,
                user_id=exception.user_id.id,
            )

    def _todos(self):
        """The assignees' to-dos on these exceptions."""
        todo = self.env.ref(TODO)
        return self.activity_ids.filtered(lambda a: a.activity_type_id == todo)

    def _post_note(self, body):
        """A note in the exception's chatter, in the current user's name, whether or not
        they have an e-mail address (a note sends none)."""
        for exception in self:
            exception.sudo().message_post(
                body=body,
                author_id=self.env.user.partner_id.id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )

    def _awaiting_success(self):
        """The exceptions the message's success resolves and its failure updates."""
        return self.filtered(lambda e: e.state in OPEN_STATES)

    def _close(self, state, note=None):
        """Close the exceptions (resolved, ignored or cancelled): their assignee's
        to-do is done."""
        for exception in self.sudo():
            exception.write(
                {
                    "state": state,
                    "resolved_by_id": (
                        exception.retry_user_id.id
                        if state == "resolved" and exception.retry_user_id
                        else self.env.user.id
                    ),
                    "resolved_date": fields.Datetime.now(),
                }
            )
            exception._todos().sudo().action_feedback(feedback=note)
            if note:
                exception._post_note(note)

    def _retry_on_arrival(self, res_model, external_id):
        """The record these exceptions wait for was bound: retry their messages."""
        pending = self.filtered(lambda e: e.state in OPEN_STATES)
        pending._post_note(
            self.env._(
                "%(model)s '%(id)s' arrived: the message is retried.",
                model=self.env[res_model]._description,
                id=external_id,
            )
        )
        pending.sudo().message_id.filtered(lambda m: m.state == "exception").action_replay()
        return pending

    def _same_code(self):
        """The open exceptions waiting on the same backend, code kind and code."""
        self.ensure_one()
        return self.sudo().search(
            [
                ("backend_id", "=", self.backend_id.id),
                ("kind", "=", "unmapped_code"),
                ("code_kind_id", "=", self.code_kind_id.id),
                ("external_code", "=", self.external_code),
                ("state", "in", OPEN_STATES),
            ]
        )

    def action_map_code(self):
        """Open the wizard that maps the unmapped code, then retries."""
        self.ensure_one()
        self._check_open()
        self._check_may_resolve()
        if self.kind != "unmapped_code" or not self.code_kind_id or not self.external_code:
            raise UserError(self.env._("This exception is not about an unmapped code."))
        self.code_kind_id._check_user_may_map()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Map code and retry"),
            "res_model": "integration.code.map.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_exception_id": self.id},
        }

    def _resolve_by_success(self):
        self._awaiting_success()._close(
            "resolved", self.env._("Resolved: the message was processed.")
        )

    def _cancel_with_message(self):
        """The message was cancelled: its open exceptions will never be resolved."""
        self.filtered(lambda e: e.state in OPEN_STATES)._close(
            "cancelled", self.env._("Cancelled with its message.")
        )

    def _check_open(self):
        closed = self.filtered(lambda e: e.state not in OPEN_STATES)
        if closed:
            raise UserError(
                self.env._(
                    "These exceptions are already closed: %(names)s.",
                    names=", ".join(closed.mapped("name")),
                )
            )

    def action_open_record(self):
        """Open the Odoo record the exception is about."""
        self.ensure_one()
        record = self._record()
        if not record:
            raise UserError(self.env._("The record concerned no longer exists."))
        record.sudo(False).check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_take(self):
        self._check_open()
        self._check_may_resolve()
        self.sudo().write({"state": "in_progress", "user_id": self.env.user.id})

    def action_retry(self):
        """Replay the messages; the exceptions resolve when processing succeeds."""
        self._check_open()
        self._check_may_resolve()
        self.sudo().write({"retry_user_id": self.env.user.id})
        self._post_note(self.env._("Retry requested by %(user)s.", user=self.env.user.name))
        # Integration users resolve exceptions without managing messages: the replay
        # runs with elevated rights, still in their name (su keeps the user).
        self.message_id.sudo().action_replay()
        return True

    def action_ignore(self):
        """Close the exceptions without processing their messages."""
        self._check_open()
        self._check_may_resolve()
        self._close("ignored")
        self.message_id.sudo().filtered(lambda m: m.state == "exception").action_cancel()
        return True

    def _check_review(self):
        self._check_open()
        self._check_may_resolve()
        other = self.filtered(lambda e: e.kind != "review" or not e.review_rule_id)
        if other:
            raise UserError(
                self.env._(
                    "Only exceptions that need a review can be approved or rejected: "
                    "%(names)s cannot.",
                    names=", ".join(other.mapped("name")),
                )
            )
        approved = self.filtered("approved_by_id")
        if approved:
            raise UserError(
                self.env._(
                    "Already approved, the message is being processed: %(names)s.",
                    names=", ".join(approved.mapped("name")),
                )
            )

    def action_approve(self):
        """Approve the messages past their review rule, once, and process them now."""
        self._check_review()
        now = fields.Datetime.now()
        for exception in self:
            exception.sudo().write(
                {
                    "state": "in_progress",
                    "approved_by_id": self.env.user.id,
                    "approved_date": now,
                    # Like a retry: who asked for the processing resolves the exception
                    # when it succeeds; it is not closed before.
                    "retry_user_id": self.env.user.id,
                }
            )
            exception.message_id.sudo().review_bypass_rule_ids = [
                Command.link(exception.review_rule_id.id)
            ]
            # A note in the user's name, even when they have no e-mail address.
            exception.sudo().message_post(
                body=self.env._(
                    'Approved by %(user)s past review rule "%(rule)s": the message is '
                    "processed as it is, this once.",
                    user=self.env.user.name,
                    rule=exception.sudo().review_rule_id.name,
                )
            )
        self.message_id.sudo().action_replay()
        return True

    def action_reject(self):
        """Reject the messages under review: they are cancelled, nothing is posted."""
        self._check_review()
        for exception in self:
            exception.sudo().message_post(
                body=self.env._(
                    "Rejected by %(user)s: the message is cancelled, nothing was posted.",
                    user=self.env.user.name,
                )
            )
        return self.action_ignore()

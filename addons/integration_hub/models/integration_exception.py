from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import IntegrationBusinessError, UnmappedCodeError, WaitingForRecordError

OPEN_STATES = ("open", "in_progress")


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
            ("other", "Other"),
        ],
        required=True,
        default="other",
        readonly=True,
    )
    explanation = fields.Text(readonly=True, help="What went wrong, in plain words.")
    user_id = fields.Many2one("res.users", string="Assigned to", tracking=True)
    state = fields.Selection(
        [
            ("open", "Open"),
            ("in_progress", "In progress"),
            ("resolved", "Resolved"),
            ("ignored", "Ignored"),
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
    resolution_note = fields.Text(tracking=True)
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    resolved_date = fields.Datetime(readonly=True)

    @api.depends("kind", "message_id.name")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for exception in self:
            exception.name = f"{kinds.get(exception.kind)}: {exception.message_id.name}"

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
        }
        if isinstance(error, UnmappedCodeError):
            values["code_kind_id"] = self.env["integration.code.kind"]._get(error.code_kind).id
            values["external_code"] = error.code
        if isinstance(error, WaitingForRecordError):
            values["waiting_res_model"] = error.res_model
            values["waiting_external_id"] = error.external_id
        return values

    @api.model
    def _open_for(self, message, error):
        """Open (or reopen) the message's exception for ``error``."""
        kind = error.kind if isinstance(error, IntegrationBusinessError) else "validation"
        explanation = str(error.args[0])
        values = self._error_values(error)
        current = message.exception_ids.filtered(lambda e: e.state in OPEN_STATES)[:1]
        if current and current.kind == kind and current.explanation == explanation:
            current.write(dict(values, state="open"))
            current.message_post(
                body=self.env._("The retry failed again: %(error)s", error=explanation)
            )
            return current
        current.write(
            {"state": "resolved", "resolution_note": self.env._("Superseded by a new exception.")}
        )
        return self.create(dict(values, message_id=message.id, kind=kind, explanation=explanation))

    def _retry_on_arrival(self, res_model, external_id):
        """The record these exceptions wait for was bound: retry their messages."""
        pending = self.filtered(lambda e: e.state in OPEN_STATES)
        for exception in pending:
            exception.message_post(
                body=self.env._(
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
        pending = self.filtered(lambda e: e.state in OPEN_STATES)
        for exception in pending:
            exception.write(
                {
                    "state": "resolved",
                    "resolved_by_id": exception.resolved_by_id.id or self.env.user.id,
                    "resolved_date": fields.Datetime.now(),
                }
            )
            exception.message_post(body=self.env._("Resolved: the message was processed."))

    def _check_open(self):
        closed = self.filtered(lambda e: e.state not in OPEN_STATES)
        if closed:
            raise UserError(
                self.env._(
                    "These exceptions are already closed: %(names)s.",
                    names=", ".join(closed.mapped("name")),
                )
            )

    def action_take(self):
        self._check_open()
        self.write({"state": "in_progress", "user_id": self.env.user.id})

    def action_retry(self):
        """Replay the messages; the exceptions resolve when processing succeeds."""
        self._check_open()
        self.write({"resolved_by_id": self.env.user.id})
        for exception in self:
            exception.message_post(
                body=self.env._("Retry requested by %(user)s.", user=self.env.user.name)
            )
        # Integration users resolve exceptions without managing messages: the replay
        # runs with elevated rights, still in their name (su keeps the user).
        self.message_id.sudo().action_replay()
        return True

    def action_ignore(self):
        """Close the exceptions without processing their messages."""
        self._check_open()
        self.write(
            {
                "state": "ignored",
                "resolved_by_id": self.env.user.id,
                "resolved_date": fields.Datetime.now(),
            }
        )
        self.message_id.sudo().filtered(lambda m: m.state == "exception").action_cancel()
        return True

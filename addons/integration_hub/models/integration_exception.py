from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import IntegrationBusinessError

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
    kind = fields.Selection(
        [
            ("validation", "Invalid data"),
            ("unmapped_code", "Unmapped code"),
            ("unknown_record", "Unknown record"),
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
    resolution_note = fields.Text(tracking=True)
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    resolved_date = fields.Datetime(readonly=True)

    @api.depends("kind", "message_id.name")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for exception in self:
            exception.name = f"{kinds.get(exception.kind)}: {exception.message_id.name}"

    @api.model
    def _open_for(self, message, error):
        """Open (or reopen) the message's exception for ``error``."""
        kind = error.kind if isinstance(error, IntegrationBusinessError) else "validation"
        explanation = str(error.args[0])
        current = message.exception_ids.filtered(lambda e: e.state in OPEN_STATES)[:1]
        if current and current.kind == kind and current.explanation == explanation:
            current.state = "open"
            current.message_post(
                body=self.env._("The retry failed again: %(error)s", error=explanation)
            )
            return current
        current.write(
            {"state": "resolved", "resolution_note": self.env._("Superseded by a new exception.")}
        )
        return self.create({"message_id": message.id, "kind": kind, "explanation": explanation})

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

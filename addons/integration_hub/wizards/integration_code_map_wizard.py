from odoo import api, fields, models
from odoo.exceptions import UserError


class IntegrationCodeMapWizard(models.TransientModel):
    """Map code and retry: save the code map an exception misses, then retry every
    open exception waiting on the same backend, code kind and code."""

    _name = "integration.code.map.wizard"
    _description = "Map Code and Retry"

    exception_id = fields.Many2one("integration.exception", required=True, ondelete="cascade")
    backend_id = fields.Many2one(related="exception_id.backend_id")
    company_id = fields.Many2one(related="exception_id.company_id")
    code_kind_id = fields.Many2one(related="exception_id.code_kind_id")
    external_code = fields.Char(related="exception_id.external_code")
    res_model = fields.Char(related="exception_id.code_kind_id.res_model")
    res_id = fields.Many2oneReference(model_field="res_model", string="Odoo record")
    description = fields.Char(help="Kept on the code map, for the next person.")
    waiting_count = fields.Integer(
        compute="_compute_waiting_count",
        string="Exceptions retried",
        help="Open exceptions of this backend waiting on the same code.",
    )

    @api.depends("exception_id")
    def _compute_waiting_count(self):
        for wizard in self:
            wizard.waiting_count = (
                len(wizard.exception_id._same_code()) if wizard.exception_id else 0
            )

    def _record(self):
        self.ensure_one()
        if not self.res_id or not self.res_model:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    def action_map_and_retry(self):
        """Save the mapping for the exception's backend, then retry what waits on it."""
        self.ensure_one()
        exception = self.exception_id
        exception._check_open()
        kind = exception.code_kind_id
        if exception.kind != "unmapped_code" or not kind or not exception.external_code:
            raise UserError(self.env._("This exception is not about an unmapped code."))
        kind._check_user_may_map()
        exception._check_may_resolve()
        current = self._current_mapping(exception)
        if current.active:
            # The mapping is saved with elevated rights: a code already mapped is changed
            # only by those who manage code maps, on the code map itself.
            raise UserError(
                self.env._(
                    "%(kind)s code '%(code)s' of %(backend)s is already mapped: retry the "
                    "exception, or ask an Integrations manager to change the code map.",
                    kind=kind.name,
                    code=exception.external_code,
                    backend=exception.backend_id.name,
                )
            )
        record = self._record()
        if not record:
            raise UserError(
                self.env._(
                    "Choose the %(model)s that %(kind)s code '%(code)s' stands for.",
                    model=self.env[kind.res_model]._description,
                    kind=kind.name,
                    code=exception.external_code,
                )
            )
        if not kind._accepts(record):
            raise UserError(
                self.env._(
                    "%(record)s cannot stand for a %(kind)s code: choose another record.",
                    record=record.display_name,
                    kind=kind.name,
                )
            )
        if "company_id" in record._fields and record.company_id not in (
            self.env["res.company"],
            exception.backend_id.company_id,
        ):
            raise UserError(
                self.env._(
                    "%(record)s belongs to another company: choose one of %(company)s.",
                    record=record.display_name,
                    company=exception.backend_id.company_id.name,
                )
            )
        mapping = self._save_mapping(exception, record)
        retried = exception._same_code()
        note = self.env._(
            "%(user)s mapped %(kind)s code '%(code)s' of %(backend)s to %(record)s.",
            user=self.env.user.name,
            kind=kind.name,
            code=exception.external_code,
            backend=exception.backend_id.name,
            record=record.display_name,
        )
        mapping.message_post(body=note)
        # Kept on the exceptions: the fix a later one of the same fingerprint is offered.
        retried._record_fix(record)
        for waiting in retried:
            waiting.message_post(body=note)
        # The people who resolve a flow's exceptions retry them without managing
        # messages: the replay runs with elevated rights, still in their name.
        retried.with_user(self.env.user)._check_may_resolve()
        retried.with_user(self.env.user).sudo().action_retry()
        return {"type": "ir.actions.act_window_close"}

    def _current_mapping(self, exception):
        """The backend's code map of the exception's code, archived ones included."""
        return (
            self.env["integration.code.map"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("backend_id", "=", exception.backend_id.id),
                    ("kind", "=", exception.code_kind_id.code),
                    ("external_code", "=", exception.external_code),
                ],
                limit=1,
            )
        )

    def _save_mapping(self, exception, record):
        """Create or update the code map, with elevated rights: the user may map codes
        of this kind without configuring the hub."""
        code_maps = self.env["integration.code.map"].sudo()
        values = {
            "record_ref": f"{record._name},{record.id}",
            "active": True,
        }
        mapping = self._current_mapping(exception)
        if mapping:
            if self.description:
                values["description"] = self.description
            mapping.write(values)
            return mapping
        return code_maps.create(
            dict(
                values,
                backend_id=exception.backend_id.id,
                kind=exception.code_kind_id.code,
                external_code=exception.external_code,
                description=self.description
                or self.env._("Mapped from exception %(name)s", name=exception.name),
            )
        )

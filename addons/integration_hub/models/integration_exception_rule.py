from odoo import api, fields, models


class IntegrationExceptionRule(models.Model):
    """Who a new exception is assigned to, by backend and kind.

    The most specific active rule wins (backend and kind, then backend, then kind, then
    neither; by sequence among equals); with no rule, the backend's owner.
    """

    _name = "integration.exception.rule"
    _description = "Integration Exception Routing Rule"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    backend_id = fields.Many2one(
        "integration.backend", ondelete="cascade", help="Empty: every backend."
    )
    kind = fields.Selection(selection="_selection_kind", help="Empty: every kind.")
    user_id = fields.Many2one(
        "res.users",
        string="Assign to",
        required=True,
        ondelete="cascade",
        domain="[('share', '=', False)]",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)

    @api.model
    def _selection_kind(self):
        # Flows add their kinds to the exception's: one list.
        return self.env["integration.exception"]._fields["kind"]._description_selection(self.env)

    @api.model
    def _assignee(self, backend, kind):
        """The user a new exception of ``kind`` at ``backend`` is assigned to (may be
        empty: a backend without an owner, an owner who left)."""
        rules = self.sudo().search(
            [
                ("backend_id", "in", [backend.id, False]),
                ("kind", "in", [kind, False]),
                ("user_id.active", "=", True),
            ]
        )
        if rules:
            best = min(rules, key=lambda r: (not r.backend_id, not r.kind, r.sequence, r.id))
            return best.user_id
        owner = backend.sudo().user_id
        # OdooBot (the installer of data files) and archived users read no activities.
        if owner and owner.active and not owner._is_superuser() and not owner.share:
            return owner
        return self.env["res.users"]

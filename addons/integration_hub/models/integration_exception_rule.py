from odoo import api, fields, models


class IntegrationExceptionRule(models.Model):
    """Who a new exception is assigned to, by backend and kind: a user, or a team (the
    exception is the team's, held by the member with the fewest open exceptions).

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
        ondelete="cascade",
        domain="[('share', '=', False)]",
        help="The user the exceptions go to (or a team).",
    )
    team_id = fields.Many2one(
        "integration.team",
        ondelete="cascade",
        help="The team the exceptions go to (or a user): each is held by the member with "
        "the fewest open exceptions; every member sees the team's unassigned ones in "
        "My exceptions.",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)

    _sql_constraints = [
        (
            "user_or_team",
            "CHECK ((user_id IS NULL) != (team_id IS NULL))",
            "A routing rule assigns to a user or to a team: one of them, not both.",
        )
    ]

    @api.model
    def _selection_kind(self):
        # Flows add their kinds to the exception's: one list.
        return self.env["integration.exception"]._fields["kind"]._description_selection(self.env)

    @api.model
    def _route(self, backend, kind):
        """``(user, team)`` a new exception of ``kind`` at ``backend`` goes to; either may
        be empty (a backend without an owner, an owner who left, a team without an
        active member)."""
        users, teams = self.env["res.users"], self.env["integration.team"]
        rules = self.sudo().search(
            [
                ("backend_id", "in", [backend.id, False]),
                ("kind", "in", [kind, False]),
                "|",
                ("user_id.active", "=", True),
                ("team_id.active", "=", True),
            ]
        )
        if rules:
            best = min(rules, key=lambda r: (not r.backend_id, not r.kind, r.sequence, r.id))
            if best.team_id:
                return best.team_id._pick_member(), best.team_id
            return best.user_id, teams
        owner = backend.sudo().user_id
        # OdooBot (the installer of data files) and archived users read no activities.
        if owner and owner.active and not owner._is_superuser() and not owner.share:
            return owner, teams
        return users, teams

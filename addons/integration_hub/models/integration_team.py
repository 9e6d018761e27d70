from odoo import fields, models

from .integration_exception import OPEN_STATES


class IntegrationTeam(models.Model):
    """People who resolve exceptions together (finance, stock): a routing rule may send
    exceptions to a team; each goes to the member holding the fewest open ones, and the
    members see the team's unassigned exceptions in "My exceptions"."""

    _name = "integration.team"
    _description = "Integration Team"
    _order = "name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    member_ids = fields.Many2many(
        "res.users",
        "integration_team_member_rel",
        "team_id",
        "user_id",
        string="Members",
        domain="[('share', '=', False)]",
    )
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Empty: a team of every company.",
    )

    def _pick_member(self):
        """The member a new exception goes to: among the active members, the one holding
        the fewest open exceptions, the earliest user on a tie (deterministic); nobody
        when no member is active (the exception then waits with the team)."""
        self.ensure_one()
        members = self.member_ids.filtered(
            lambda u: u.active and not u.share and not u._is_superuser()
        )
        if not members:
            return self.env["res.users"]
        held = dict(
            self.env["integration.exception"]
            .sudo()
            ._read_group(
                [("user_id", "in", members.ids), ("state", "in", OPEN_STATES)],
                ["user_id"],
                ["__count"],
            )
        )
        return min(members, key=lambda user: (held.get(user, 0), user.id))

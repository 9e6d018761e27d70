from odoo import fields, models


class IntegrationDomain(models.Model):
    """A business domain (billing, supply, …): the event types of a flow, and the
    roles that work in it."""

    _name = "integration.domain"
    _description = "Integration Business Domain"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    group_ids = fields.Many2many(
        "res.groups",
        string="Worked by",
        help="Members read the messages and exceptions of this domain's event types and "
        "resolve its exceptions (record rules); Integrations users see every domain. "
        "Flows declare theirs as data.",
    )

    _sql_constraints = [("code_uniq", "unique(code)", "This domain code already exists.")]

    def _user_works_in(self):
        """Whether the current user works in one of these domains (or in every one)."""
        user = self.env.user
        return (
            self.env.su
            or user.has_group("integration_hub.integration_hub_group_user")
            or bool(self.sudo().group_ids & user.groups_id)
        )

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools.safe_eval import safe_eval


class IntegrationCodeKind(models.Model):
    """What an external code names (service, item, location, …): flows declare these
    as data, like event types, with the Odoo model a code maps to and who may map it."""

    _name = "integration.code.kind"
    _description = "Integration Code Kind"
    _order = "name"
    _rec_name = "name"

    code = fields.Char(
        required=True, help="The kind as handlers name it, for example service or item."
    )
    name = fields.Char(required=True, translate=True)
    res_model = fields.Char(
        string="Odoo model", required=True, help="The model a code of this kind maps to."
    )
    model_id = fields.Many2one(
        "ir.model", compute="_compute_model_id", store=True, ondelete="cascade"
    )
    domain = fields.Char(
        default="[]", help="Which records of the model a code of this kind may map to."
    )
    group_id = fields.Many2one(
        "res.groups",
        string="Mapped by",
        help="Members of this group may map codes of this kind from an exception (saved "
        "with elevated rights in their name); hub managers always may.",
    )
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [("code_uniq", "unique(code)", "This code kind already exists.")]

    @api.depends("res_model")
    def _compute_model_id(self):
        for kind in self:
            kind.model_id = self.env["ir.model"].sudo()._get(kind.res_model)

    @api.constrains("res_model", "domain")
    def _check_model_and_domain(self):
        for kind in self:
            if kind.res_model not in self.env:
                raise ValidationError(
                    self.env._(
                        "Code kind %(kind)s: %(model)s is not a model.",
                        kind=kind.code,
                        model=kind.res_model,
                    )
                )
            try:
                self.env[kind.res_model].sudo().search_count(kind._domain(), limit=1)
            except (SyntaxError, ValueError, KeyError, TypeError) as exc:
                raise ValidationError(
                    self.env._(
                        "Code kind %(kind)s: the domain is not valid: %(error)s",
                        kind=kind.code,
                        error=exc,
                    )
                ) from exc

    @api.model
    def _get(self, code):
        """The kind of ``code`` (archived ones included), or an empty recordset."""
        return self.with_context(active_test=False).sudo().search([("code", "=", code)], limit=1)

    def _domain(self):
        self.ensure_one()
        return safe_eval(self.domain or "[]")

    def _accepts(self, record):
        """Whether ``record`` may stand for a code of this kind."""
        self.ensure_one()
        return bool(
            record
            and record._name == self.res_model
            and record.sudo().filtered_domain(self._domain())
        )

    def _user_may_map(self):
        self.ensure_one()
        user = self.env.user
        return (
            self.env.is_superuser()
            or user.has_group("integration_hub.integration_hub_group_manager")
            or bool(self.group_id and self.group_id in user.groups_id)
        )

    def _check_user_may_map(self):
        for kind in self:
            if not kind._user_may_map():
                raise AccessError(
                    self.env._(
                        "Only members of %(group)s or hub managers may map %(kind)s codes.",
                        group=kind.group_id.full_name or self.env._("no group"),
                        kind=kind.name,
                    )
                )

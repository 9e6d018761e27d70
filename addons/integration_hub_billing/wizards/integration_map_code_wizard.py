from odoo import api, fields, models
from odoo.exceptions import UserError


class IntegrationMapCodeWizard(models.TransientModel):
    """Map an exception's unknown service code to a product, then retry its message."""

    _name = "integration.map.code.wizard"
    _description = "Map Code and Retry"

    exception_id = fields.Many2one("integration.exception", required=True, ondelete="cascade")
    backend_id = fields.Many2one(related="exception_id.backend_id")
    company_id = fields.Many2one(related="exception_id.company_id")
    code_kind = fields.Char(related="exception_id.unmapped_code_kind")
    external_code = fields.Char(related="exception_id.unmapped_code")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        domain="[('company_id', 'in', (False, company_id)), ('sale_ok', '=', True)]",
    )
    description = fields.Char(help="Kept on the code map, for the next person.")

    @api.onchange("exception_id")
    def _onchange_exception_id(self):
        for wizard in self:
            if wizard.exception_id and not wizard.description:
                wizard.description = wizard.exception_id.message_id._data().get("description")

    def action_map_and_retry(self):
        """Save the mapping for the exception's backend, then replay its message."""
        self.ensure_one()
        exception = self.exception_id
        exception._check_open()
        if exception.kind != "unmapped_code" or exception.unmapped_code_kind != "service":
            raise UserError(self.env._("Only an unmapped service code can be mapped here."))
        # Finance users resolve billing exceptions without configuring the hub: the
        # mapping is saved with elevated rights, in their name, and told in the chatter.
        code_maps = self.env["integration.code.map"].sudo().with_context(active_test=False)
        mapping = code_maps.search(
            [
                ("backend_id", "=", exception.backend_id.id),
                ("kind", "=", "service"),
                ("external_code", "=", exception.unmapped_code),
            ],
            limit=1,
        )
        values = {
            "record_ref": f"product.product,{self.product_id.id}",
            "active": True,
            "description": self.description or mapping.description,
        }
        if mapping:
            mapping.write(values)
        else:
            code_maps.create(
                dict(
                    values,
                    backend_id=exception.backend_id.id,
                    kind="service",
                    external_code=exception.unmapped_code,
                )
            )
        exception.message_post(
            body=self.env._(
                "%(user)s mapped service code %(code)s of %(backend)s to %(product)s.",
                user=self.env.user.name,
                code=exception.unmapped_code,
                backend=exception.backend_id.name,
                product=self.product_id.display_name,
            )
        )
        exception.action_retry()
        return {"type": "ir.actions.act_window_close"}

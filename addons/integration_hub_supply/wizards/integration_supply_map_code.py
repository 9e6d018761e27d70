from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.integration_handler_supply import CODE_KIND_MODELS


class IntegrationSupplyMapCode(models.TransientModel):
    """Map and retry: save the code map an exception is missing, then replay."""

    _name = "integration.supply.map.code"
    _description = "Map a Supply Code and Retry"

    exception_id = fields.Many2one("integration.exception", required=True, ondelete="cascade")
    backend_id = fields.Many2one(related="exception_id.backend_id")
    code_kind = fields.Char(related="exception_id.code_kind")
    external_code = fields.Char(related="exception_id.external_code")
    product_id = fields.Many2one("product.product")
    uom_id = fields.Many2one("uom.uom", string="Unit of measure")
    location_id = fields.Many2one("stock.location", domain=[("usage", "=", "internal")])
    warehouse_id = fields.Many2one("stock.warehouse")

    @api.model
    def _target_field(self, kind):
        return {
            "product.product": "product_id",
            "uom.uom": "uom_id",
            "stock.location": "location_id",
            "stock.warehouse": "warehouse_id",
        }[CODE_KIND_MODELS[kind]]

    def action_map_and_retry(self):
        self.ensure_one()
        exception = self.exception_id
        if exception.code_kind not in CODE_KIND_MODELS or not exception.external_code:
            raise UserError(self.env._("This exception is not about an unmapped supply code."))
        record = self[self._target_field(exception.code_kind)]
        if not record:
            raise UserError(
                self.env._(
                    "Choose the Odoo record that %(kind)s code '%(code)s' stands for.",
                    kind=exception.code_kind,
                    code=exception.external_code,
                )
            )
        code_map_model = self.env["integration.code.map"]
        existing = code_map_model.with_context(active_test=False).search(
            [
                ("backend_id", "=", exception.backend_id.id),
                ("kind", "=", exception.code_kind),
                ("external_code", "=", exception.external_code),
            ],
            limit=1,
        )
        values = {"record_ref": f"{record._name},{record.id}", "active": True}
        if existing:
            existing.write(values)
        else:
            code_map_model.create(
                dict(
                    values,
                    backend_id=exception.backend_id.id,
                    kind=exception.code_kind,
                    external_code=exception.external_code,
                    description=self.env._("Mapped from exception %(name)s", name=exception.name),
                )
            )
        exception.message_post(
            body=self.env._(
                "%(kind)s code '%(code)s' mapped to %(record)s by %(user)s.",
                kind=exception.code_kind,
                code=exception.external_code,
                record=record.display_name,
                user=self.env.user.name,
            )
        )
        exception.action_retry()
        return {"type": "ir.actions.act_window_close"}

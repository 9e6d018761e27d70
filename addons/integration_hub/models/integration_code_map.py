from odoo import api, fields, models


class IntegrationCodeMap(models.Model):
    """An external code (service, payer, location, …) mapped to an Odoo record."""

    _name = "integration.code.map"
    _description = "Integration Code Map"
    _order = "backend_id, kind, external_code"
    _rec_name = "external_code"

    backend_id = fields.Many2one(
        "integration.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    kind = fields.Char(
        required=True, help="What the code names, for example service, payer, location."
    )
    external_code = fields.Char(required=True)
    description = fields.Char()
    record_ref = fields.Reference(
        selection="_selection_res_model", string="Odoo record", required=True
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "code_uniq",
            "unique(backend_id, kind, external_code)",
            "This code is already mapped for this backend.",
        ),
    ]

    @api.model
    def _selection_res_model(self):
        return self.env["integration.message"]._selection_result_model()

    @api.model
    def _lookup(self, backend, kind, external_code):
        """The mapped record, or an empty recordset when the code is not mapped."""
        mapping = self.search(
            [
                ("backend_id", "=", backend.id),
                ("kind", "=", kind),
                ("external_code", "=", external_code),
            ],
            limit=1,
        )
        return mapping.record_ref if mapping else None

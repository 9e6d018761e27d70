from odoo import api, fields, models


class IntegrationBinding(models.Model):
    """Which Odoo record stands for which record of an external system."""

    _name = "integration.binding"
    _description = "Integration Binding"
    _order = "id desc"
    _rec_name = "external_id"

    backend_id = fields.Many2one(
        "integration.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    res_model = fields.Char(string="Odoo model", required=True)
    res_id = fields.Many2oneReference(
        model_field="res_model", string="Odoo record id", required=True
    )
    record_ref = fields.Reference(
        selection="_selection_res_model", compute="_compute_record_ref", string="Odoo record"
    )
    external_id = fields.Char(required=True, help="The record's id in the external system.")
    external_updated_at = fields.Datetime(
        help="Last change time the external system reported; older updates are skipped."
    )
    # Indexed: retention deletes messages, and PostgreSQL then clears this link.
    last_message_id = fields.Many2one(
        "integration.message", ondelete="set null", index="btree_not_null"
    )

    _sql_constraints = [
        (
            "external_uniq",
            "unique(backend_id, res_model, external_id)",
            "This external record is already bound for this backend.",
        ),
    ]

    @api.model
    def _selection_res_model(self):
        return self.env["integration.message"]._selection_result_model()

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for binding in self:
            binding.record_ref = (
                f"{binding.res_model},{binding.res_id}" if binding.res_id else False
            )

    def _record(self):
        self.ensure_one()
        return self.env[self.res_model].browse(self.res_id).exists()

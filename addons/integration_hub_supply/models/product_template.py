from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    integration_critical = fields.Boolean(
        string="Critical supply",
        help="Replenished as soon as consumption takes it below a location's minimum, on "
        "the high-priority job channel: an internal transfer from a location with "
        "surplus first, else a draft purchase order with the preferred vendor.",
    )

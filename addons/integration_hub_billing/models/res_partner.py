"""Extends res.partner: patients, seen only by the people who need them."""

from odoo import fields, models
from odoo.exceptions import AccessError


class ResPartner(models.Model):
    _inherit = "res.partner"

    integration_patient = fields.Boolean(
        string="Patient",
        readonly=True,
        copy=False,
        index=True,
        help="Created or updated by a patient.upserted event: only billing users and "
        "Integrations users see this contact (record rules).",
    )

    def write(self, vals):
        # Unmarking a patient shows them to every employee: a system administrator's call.
        if (
            "integration_patient" in vals
            and not vals["integration_patient"]
            and not (self.env.su or self.env.user.has_group("base.group_system"))
            and self.filtered("integration_patient")
        ):
            raise AccessError(
                self.env._(
                    "Only a system administrator may unmark a patient: every employee "
                    "would see the contact."
                )
            )
        return super().write(vals)

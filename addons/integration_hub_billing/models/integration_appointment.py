from odoo import api, fields, models

APPOINTMENT_STATES = [
    ("scheduled", "Scheduled"),
    ("rescheduled", "Rescheduled"),
    ("cancelled", "Cancelled"),
    ("no_show", "No show"),
    ("completed", "Completed"),
]


class IntegrationAppointment(models.Model):
    """An appointment of a scheduling system, kept to reconcile it with its charges."""

    _name = "integration.appointment"
    _description = "Integration Appointment"
    _order = "start_time desc, id desc"

    name = fields.Char(string="External id", required=True, readonly=True)
    backend_id = fields.Many2one(
        "integration.backend", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    patient_id = fields.Many2one("res.partner", readonly=True, index=True)
    payer_id = fields.Many2one("res.partner", readonly=True)
    provider_ref = fields.Char(string="Provider", readonly=True)
    location_code = fields.Char(string="Location", readonly=True)
    service_code = fields.Char(string="Service", readonly=True)
    start_time = fields.Datetime(string="Start", readonly=True)
    end_time = fields.Datetime(string="End", readonly=True)
    state = fields.Selection(APPOINTMENT_STATES, required=True, readonly=True, index=True)
    reason = fields.Char(readonly=True)
    charge_ids = fields.One2many("integration.charge", "appointment_id", readonly=True)
    charge_count = fields.Integer(compute="_compute_charge_count")

    _sql_constraints = [
        (
            "name_backend_uniq",
            "unique(backend_id, name)",
            "This appointment already exists for this backend.",
        ),
    ]

    @api.depends("charge_ids")
    def _compute_charge_count(self):
        for appointment in self:
            appointment.charge_count = len(appointment.charge_ids)

from odoo import fields, models


class IntegrationMessageAttempt(models.Model):
    _name = "integration.message.attempt"
    _description = "Integration Message Attempt"
    _order = "message_id, number desc"

    message_id = fields.Many2one(
        "integration.message", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="message_id.company_id", store=True)
    number = fields.Integer(required=True)
    job_uuid = fields.Char(string="Job")
    start_date = fields.Datetime(required=True)
    end_date = fields.Datetime()
    duration_ms = fields.Integer(string="Duration (ms)")
    outcome = fields.Selection(
        [
            ("done", "Done"),
            ("exception", "Business exception"),
            ("failed", "Technical failure"),
            ("waiting", "Waiting for a record"),
        ],
        required=True,
    )
    error = fields.Text()
    status_code = fields.Integer(string="HTTP status", help="Outbound: the receiver's answer.")
    response_excerpt = fields.Text(help="Outbound: the start of the receiver's answer.")
    traceback = fields.Text(groups="integration_hub.integration_hub_group_manager")

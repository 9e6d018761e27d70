from markupsafe import Markup, escape

from odoo import fields, models, tools

CATEGORIES = [
    ("appointment_no_charge", "Completed appointment without charge"),
    ("charge_to_review", "Charge waiting for review"),
    ("charge_not_invoiced", "Approved charge not invoiced"),
    ("payment_unmatched", "Payment not matched"),
]


class IntegrationReconciliationReport(models.Model):
    """What is stuck between the external systems and the ledger, one row per item."""

    _name = "integration.reconciliation.report"
    _description = "Integration Billing Reconciliation"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "reference"
    # Searching the view first flushes what it reads.
    _depends = {
        "integration.appointment": [
            "backend_id",
            "company_id",
            "end_time",
            "start_time",
            "name",
            "patient_id",
            "state",
        ],
        "integration.charge": [
            "backend_id",
            "company_id",
            "service_date",
            "name",
            "payer_id",
            "patient_id",
            "currency_id",
            "amount_total",
            "state",
            "encounter_ref",
        ],
        "integration.backend": ["reconciliation_delay_hours"],
        "account.payment": [
            "integration_backend_id",
            "company_id",
            "date",
            "memo",
            "partner_id",
            "currency_id",
            "amount",
            "is_reconciled",
            "state",
        ],
        "integration.exception": ["backend_id", "company_id", "kind", "state", "message_id"],
        "integration.message": ["payload", "sender_message_id"],
    }

    category = fields.Selection(CATEGORIES, readonly=True)
    backend_id = fields.Many2one("integration.backend", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Date(readonly=True)
    reference = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True)
    age_hours = fields.Integer(string="Age (hours)", readonly=True, aggregator="max")
    res_model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # Ids are the source row's id times 10 plus the category's digit: stable.
        self.env.cr.execute(
            f"""
            CREATE VIEW {self._table} AS (
            SELECT a.id * 10 + 1 AS id, 'appointment_no_charge' AS category,
                   a.backend_id, a.company_id,
                   COALESCE(a.end_time, a.start_time)::date AS date, a.name AS reference,
                   a.patient_id AS partner_id, c.currency_id, 0.0 AS amount,
                   EXTRACT(EPOCH FROM (now() at time zone 'utc')
                       - COALESCE(a.end_time, a.start_time))::int / 3600 AS age_hours,
                   'integration.appointment' AS res_model, a.id AS res_id
              FROM integration_appointment a
              JOIN integration_backend b ON b.id = a.backend_id
              JOIN res_company c ON c.id = a.company_id
             WHERE a.state = 'completed'
               AND COALESCE(a.end_time, a.start_time) < (now() at time zone 'utc')
                   - make_interval(hours => COALESCE(b.reconciliation_delay_hours, 0))
               AND NOT EXISTS (
                   SELECT 1 FROM integration_charge ch
                    WHERE ch.backend_id = a.backend_id AND ch.encounter_ref = a.name
                      AND ch.state != 'rejected')
            UNION ALL
            SELECT ch.id * 10 + CASE ch.state WHEN 'to_review' THEN 2 ELSE 3 END,
                   CASE ch.state WHEN 'to_review' THEN 'charge_to_review'
                        ELSE 'charge_not_invoiced' END,
                   ch.backend_id, ch.company_id, ch.service_date, ch.name,
                   COALESCE(ch.payer_id, ch.patient_id), ch.currency_id, ch.amount_total,
                   EXTRACT(EPOCH FROM (now() at time zone 'utc') - ch.create_date)::int / 3600,
                   'integration.charge', ch.id
              FROM integration_charge ch
             WHERE ch.state IN ('to_review', 'approved')
            UNION ALL
            SELECT p.id * 10 + 4, 'payment_unmatched', p.integration_backend_id,
                   p.company_id, p.date, COALESCE(p.memo, ''), p.partner_id, p.currency_id,
                   p.amount,
                   EXTRACT(EPOCH FROM (now() at time zone 'utc') - p.create_date)::int / 3600,
                   'account.payment', p.id
              FROM account_payment p
             WHERE p.integration_backend_id IS NOT NULL AND NOT p.is_reconciled
               AND p.state NOT IN ('draft', 'canceled', 'rejected')
            UNION ALL
            SELECT x.id * 10 + 5, 'payment_unmatched', x.backend_id, x.company_id,
                   m.create_date::date, m.sender_message_id, NULL, c.currency_id,
                   CASE WHEN m.payload IS NOT NULL
                         AND (m.payload::jsonb -> 'data' ->> 'amount')
                             ~ '^[0-9]{{1,15}}(\\.[0-9]+)?$'
                        THEN (m.payload::jsonb -> 'data' ->> 'amount')::numeric ELSE 0 END,
                   EXTRACT(EPOCH FROM (now() at time zone 'utc') - x.create_date)::int / 3600,
                   'integration.exception', x.id
              FROM integration_exception x
              JOIN integration_message m ON m.id = x.message_id
              JOIN res_company c ON c.id = x.company_id
             WHERE x.kind = 'unmatched_payment' AND x.state IN ('open', 'in_progress')
            )
            """
        )

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _digest_html(self, backend, rows):
        """An HTML table of the report's (category, count, amount) rows of a backend."""
        labels = dict(CATEGORIES)
        cells = Markup("").join(
            Markup(
                "<tr><td>%s</td><td style='text-align:right'>%s</td>"
                "<td style='text-align:right'>%s</td></tr>"
            )
            % (labels.get(category, category), count, f"{amount or 0.0:.2f}")
            for category, count, amount in rows
        )
        return Markup("<p>%s</p><table><tr><th>%s</th><th>%s</th><th>%s</th></tr>%s</table>") % (
            escape(
                self.env._(
                    "What is waiting between %(backend)s and the ledger:", backend=backend.name
                )
            ),
            self.env._("Item"),
            self.env._("Count"),
            self.env._("Amount"),
            cells,
        )

from odoo import api, fields, models


class IntegrationBackend(models.Model):
    _inherit = "integration.backend"

    charge_auto_approve = fields.Boolean(
        string="Auto-approve charges",
        help="Charges from this system skip Charge review when their amount is within "
        "the limit below.",
    )
    charge_auto_approve_max = fields.Monetary(
        string="Auto-approval limit",
        currency_field="company_currency_id",
        help="Largest charge total approved without review; 0 means no limit.",
    )
    invoice_auto_post = fields.Boolean(
        string="Post invoices",
        help="Post the invoices built from this system's charges instead of leaving them in draft.",
    )
    payment_journal_id = fields.Many2one(
        "account.journal",
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
        help="Journal of the payments this system posts; the company's first bank "
        "journal when empty.",
    )
    reconciliation_delay_hours = fields.Integer(
        string="Charge expected within (hours)",
        default=24,
        help="A completed appointment with no charge after this many hours shows in "
        "the reconciliation report.",
    )
    billing_digest_partner_ids = fields.Many2many(
        "res.partner",
        string="Daily digest to",
        help="Who receives the daily reconciliation digest of this system; its owner when empty.",
    )
    company_currency_id = fields.Many2one(related="company_id.currency_id")
    charge_count = fields.Integer(compute="_compute_charge_count")
    is_billing_backend = fields.Boolean(
        compute="_compute_is_billing_backend",
        help="Exchanges billing or scheduling events, or is a billing system: its "
        "Billing settings show.",
    )

    _sql_constraints = [
        (
            "reconciliation_delay_hours_positive",
            "CHECK(reconciliation_delay_hours >= 0)",
            "The delay before a missing charge is reported cannot be negative.",
        ),
    ]

    @api.depends("system_type", "business_domain_codes")
    def _compute_is_billing_backend(self):
        for backend in self:
            backend.is_billing_backend = backend.system_type in (
                "billing",
                "scheduling",
                "ehr",
                "payment",
            ) or backend._has_business_domain("billing", "scheduling")

    @api.model
    def _overview_gap_labels(self):
        report = self.env["integration.reconciliation.report"]
        categories = report._fields["category"]._description_selection(self.env)
        return [
            *super()._overview_gap_labels(),
            *(
                (f"billing.{code}", self.env._("Billing: %(gap)s", gap=label))
                for code, label in categories
            ),
        ]

    def _overview_gaps(self):
        gaps = super()._overview_gaps()
        if self.ids and self.env["integration.reconciliation.report"].has_access("read"):
            # The reconciliation report's rows of these backends, counted by category.
            for backend, category, count in self.env[
                "integration.reconciliation.report"
            ]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id", "category"], ["__count"]
            ):
                gaps[backend.id][f"billing.{category}"] = count
        return gaps

    def _overview_gap_action(self, code):
        if not (code or "").startswith("billing."):
            return super()._overview_gap_action(code)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub_billing.integration_reconciliation_report_action"
        )
        action["domain"] = [
            ("backend_id", "=", self.id),
            ("category", "=", code.removeprefix("billing.")),
        ]
        action["context"] = {}
        return action

    def _compute_charge_count(self):
        counts = dict.fromkeys(self.ids, 0)
        if self.ids:
            for backend, count in self.env["integration.charge"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            ):
                counts[backend.id] = count
        for backend in self:
            backend.charge_count = counts.get(backend.id, 0)

    def _payment_journal(self):
        self.ensure_one()
        return self.payment_journal_id or self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company_id.id)], limit=1
        )

    def action_view_charges(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub_billing.integration_charge_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.model
    def _cron_send_billing_digest(self):
        """Post the reconciliation digest of each billing backend to its finance team."""
        report = self.env["integration.reconciliation.report"]
        sent = self.browse()
        for backend in self.search([("state", "!=", "draft")]):
            rows = report._read_group(
                [("backend_id", "=", backend.id)],
                ["category"],
                ["__count", "amount:sum"],
            )
            if not rows:
                continue
            partners = backend.billing_digest_partner_ids or backend.user_id.partner_id
            backend.message_post(
                subject=self.env._("Billing reconciliation digest: %(name)s", name=backend.name),
                body=report._digest_html(backend, rows),
                partner_ids=partners.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            sent |= backend
        return sent

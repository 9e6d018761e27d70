from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

CHARGE_STATES = [
    ("to_review", "To review"),
    ("approved", "Approved"),
    ("invoiced", "Invoiced"),
    ("rejected", "Rejected"),
]


class IntegrationCharge(models.Model):
    """A charge captured by a billing system, reviewed before it is invoiced."""

    _name = "integration.charge"
    _description = "Integration Charge"
    _inherit = ["mail.thread"]
    _order = "service_date desc, id desc"

    name = fields.Char(string="External id", required=True, readonly=True)
    backend_id = fields.Many2one(
        "integration.backend", required=True, readonly=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    # Indexed: retention deletes messages, and PostgreSQL then clears this link.
    message_id = fields.Many2one(
        "integration.message", readonly=True, ondelete="set null", index="btree_not_null"
    )
    encounter_ref = fields.Char(string="Encounter", readonly=True, index=True)
    appointment_id = fields.Many2one("integration.appointment", readonly=True, index=True)
    patient_id = fields.Many2one("res.partner", required=True, readonly=True, index=True)
    payer_id = fields.Many2one("res.partner", readonly=True, index=True)
    provider_ref = fields.Char(string="Provider", readonly=True)
    service_code = fields.Char(readonly=True, required=True)
    product_id = fields.Many2one("product.product", readonly=True, required=True)
    description = fields.Char(readonly=True)
    quantity = fields.Float(readonly=True, digits="Product Unit of Measure")
    unit_price = fields.Float(readonly=True, digits="Product Price")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    service_date = fields.Date(readonly=True)
    amount_total = fields.Monetary(readonly=True)
    patient_share = fields.Monetary(readonly=True)
    payer_share = fields.Monetary(readonly=True)
    state = fields.Selection(
        CHARGE_STATES, required=True, default="to_review", readonly=True, tracking=True, index=True
    )
    invoice_line_ids = fields.One2many("account.move.line", "integration_charge_id", readonly=True)
    invoice_ids = fields.Many2many(
        "account.move", compute="_compute_invoice_ids", string="Invoices"
    )
    invoice_count = fields.Integer(compute="_compute_invoice_ids")

    _sql_constraints = [
        (
            "name_backend_uniq",
            "unique(backend_id, name)",
            "This charge already exists for this backend.",
        ),
    ]

    @api.depends("invoice_line_ids.move_id")
    def _compute_invoice_ids(self):
        for charge in self:
            charge.invoice_ids = charge.invoice_line_ids.move_id
            charge.invoice_count = len(charge.invoice_ids)

    def _shares(self):
        """(side, responsible partner, amount) of each non-zero share of the charge."""
        self.ensure_one()
        shares = [
            ("payer", self.payer_id, self.payer_share),
            ("patient", self.patient_id, self.patient_share),
        ]
        return [share for share in shares if not self.currency_id.is_zero(share[2])]

    def _auto_approve(self):
        """Approve the charges their backend's rules let through (and invoice them)."""
        approvable = self.filtered(
            lambda c: (
                c.state == "to_review"
                and c.backend_id.charge_auto_approve
                and (
                    not c.backend_id.charge_auto_approve_max
                    or c.currency_id.compare_amounts(
                        c.amount_total, c.backend_id.charge_auto_approve_max
                    )
                    <= 0
                )
            )
        )
        approvable._approve()
        return approvable

    def _approve(self):
        self.write({"state": "approved"})
        # Real-time backends invoice at once; the others wait for the invoicing cron.
        self.filtered(lambda c: c.backend_id.latency_tier == "realtime")._create_invoices()

    def action_approve(self):
        not_to_review = self.filtered(lambda c: c.state != "to_review")
        if not_to_review:
            raise UserError(
                self.env._(
                    "Only charges to review can be approved: %(names)s.",
                    names=", ".join(not_to_review.mapped("name")),
                )
            )
        self._approve()
        return True

    def action_reject(self):
        not_open = self.filtered(lambda c: c.state not in ("to_review", "approved"))
        if not_open:
            raise UserError(
                self.env._(
                    "Invoiced or rejected charges cannot be rejected: %(names)s.",
                    names=", ".join(not_open.mapped("name")),
                )
            )
        self.write({"state": "rejected"})
        return True

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"create": False}
        if len(self.invoice_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.invoice_ids.id
        return action

    def _invoice_line_values(self, side, amount):
        self.ensure_one()
        name = self.description or self.product_id.display_name
        whole = self.currency_id.compare_amounts(amount, self.amount_total) == 0
        values = {
            "product_id": self.product_id.id,
            "integration_charge_id": self.id,
            "integration_share": side,
            "quantity": self.quantity if whole else 1.0,
            "price_unit": self.unit_price if whole else amount,
            "name": f"[{self.service_code}] {name}",
        }
        if not whole:
            values["name"] += self.env._(
                " (%(side)s share of %(quantity)s × %(price)s)",
                side=side,
                quantity=self.quantity,
                price=self.unit_price,
            )
        return values

    def _create_invoices(self):
        """Draft customer invoices of the approved charges, one per responsible partner
        and encounter (patient and payer shares on their own invoices); posted when the
        backend says so. Returns the invoices."""
        groups = defaultdict(list)
        for charge in self.filtered(lambda c: c.state == "approved"):
            for side, partner, amount in charge._shares():
                key = (charge.backend_id, partner, charge.encounter_ref or "", charge.currency_id)
                groups[key].append((charge, side, amount))
        invoices = self.env["account.move"]
        for (backend, partner, encounter, currency), items in groups.items():
            invoices |= self.env["account.move"]._integration_add_to_draft_invoice(
                backend,
                partner,
                encounter,
                currency,
                [
                    Command.create(charge._invoice_line_values(side, amount))
                    for charge, side, amount in items
                ],
            )
        self.filtered(lambda c: c.state == "approved").write({"state": "invoiced"})
        invoices.filtered(lambda m: m.integration_backend_id.invoice_auto_post)._integration_post()
        return invoices

    @api.model
    def _cron_invoice_approved_charges(self, limit=5000):
        """Invoice the approved charges of every backend (the batch tier's schedule)."""
        charges = self.search([("state", "=", "approved")], limit=limit, order="id")
        for company, company_charges in charges.grouped("company_id").items():
            company_charges.with_company(company)._create_invoices()
        return charges

from odoo import api, fields, models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class AccountMove(models.Model):
    _inherit = "account.move"

    integration_backend_id = fields.Many2one(
        "integration.backend",
        string="Built by",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The external system whose charges this invoice bills.",
    )
    integration_encounter_ref = fields.Char(string="Encounter", readonly=True, copy=False)
    integration_claim_ref = fields.Char(string="Claim", readonly=True, copy=False)
    integration_claim_status = fields.Char(
        string="Claim status", readonly=True, copy=False, tracking=True
    )
    integration_claim_reason = fields.Char(string="Claim status reason", readonly=True, copy=False)
    integration_message_ids = fields.Many2many(
        "integration.message",
        compute="_compute_integration_message_ids",
        string="Integration messages",
    )
    integration_message_count = fields.Integer(compute="_compute_integration_message_ids")

    @api.depends("invoice_line_ids.integration_charge_id.message_id")
    def _compute_integration_message_ids(self):
        messages = self.env["integration.message"]
        produced = messages.search(
            [("result_model", "=", "account.move"), ("result_res_id", "in", self.ids)]
        )
        for move in self:
            move.integration_message_ids = (
                move.invoice_line_ids.integration_charge_id.message_id
                | produced.filtered(lambda m, move=move: m.result_res_id == move.id)
            )
            move.integration_message_count = len(move.integration_message_ids)

    def action_view_integration_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_message_action"
        )
        action["domain"] = [("id", "in", self.integration_message_ids.ids)]
        action["context"] = {"create": False}
        return action

    def _integration_add_to_draft_invoice(self, backend, partner, encounter, currency, lines):
        """Add ``lines`` (commands) to the draft invoice of (backend, responsible partner,
        encounter), made with them when there is none; returns the invoice."""
        domain = [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "draft"),
            ("company_id", "=", backend.company_id.id),
            ("integration_backend_id", "=", backend.id),
            ("partner_id", "=", partner.id),
            ("integration_encounter_ref", "=", encounter or False),
            ("currency_id", "=", currency.id),
        ]
        invoice = self.search(domain, limit=1)
        if invoice:
            invoice.write({"invoice_line_ids": lines})
            return invoice
        return (
            self.with_company(backend.company_id)
            .with_context(default_move_type="out_invoice")
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "currency_id": currency.id,
                    "integration_backend_id": backend.id,
                    "integration_encounter_ref": encounter or False,
                    "invoice_origin": encounter or False,
                    "ref": encounter or False,
                    "invoice_line_ids": lines,
                }
            )
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # Every posted customer invoice or credit note, however it was posted.
        posted.filtered(lambda m: m.is_sale_document())._integration_emit("invoice.posted")
        posted._integration_wake_waiting()
        return posted

    def _integration_wake_waiting(self):
        """Payments, refunds and claims waiting for these invoices are retried now."""
        messages = self.env["integration.message"].sudo()
        for move in self.filtered(lambda m: m.move_type == "out_invoice"):
            charges = move.invoice_line_ids.integration_charge_id
            for charge in charges:
                messages._wake_waiting(charge.backend_id, "integration.charge", charge.name)
            if move.integration_backend_id and move.integration_encounter_ref:
                messages._wake_waiting(
                    move.integration_backend_id,
                    "integration.appointment",
                    move.integration_encounter_ref,
                )

    def _integration_post(self):
        """Post invoices built from integration charges.

        ``invoice.posted`` is emitted by ``_post`` for every customer invoice.
        """
        to_post = self.filtered(lambda m: m.state == "draft")
        to_post.action_post()
        return to_post

    def _integration_register_payment(self, backend, partner, amount, *, date, memo, currency):
        """Register one customer payment of ``amount`` and reconcile it with ``self``.

        A partial payment leaves the invoices partly paid; an over-payment leaves the
        rest as the partner's outstanding credit. The one place integration payments
        are registered: the point to emit ``payment.registered``.
        """
        journal = backend._payment_journal()
        if not journal:
            raise IntegrationBusinessError(
                self.env._(
                    "%(company)s has no bank journal for the payments of %(backend)s: set one "
                    "on the backend, then retry.",
                    company=backend.company_id.name,
                    backend=backend.name,
                )
            )
        lines = self.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        )
        if lines:
            wizard = (
                self.env["account.payment.register"]
                .with_company(backend.company_id)
                .with_context(active_model="account.move.line", active_ids=lines.ids)
                .create(
                    {
                        "payment_date": date,
                        "amount": float(amount),
                        "currency_id": currency.id,
                        "journal_id": journal.id,
                        "communication": memo,
                        "group_payment": True,
                        "payment_difference_handling": "open",
                    }
                )
            )
            payment = wizard._create_payments()
        else:
            payment = (
                self.env["account.payment"]
                .with_company(backend.company_id)
                .create(
                    {
                        "payment_type": "inbound",
                        "partner_type": "customer",
                        "partner_id": partner.id,
                        "amount": float(amount),
                        "currency_id": currency.id,
                        "date": date,
                        "journal_id": journal.id,
                        "memo": memo,
                    }
                )
            )
            payment.action_post()
        payment.integration_backend_id = backend
        return payment

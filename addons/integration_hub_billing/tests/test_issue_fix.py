from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import BillingCase, charge_event


@tagged("post_install", "-at_install")
class TestIssueSuggestedFix(BillingCase, AccountTestInvoicingCommon):
    """An unmapped service code fixed once by 'Map code and retry' is offered again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()

    def setUp(self):
        super().setUp()
        self._setup_parties()

    def _unmapped(self, charge_id, code):
        message = self._process(charge_event(charge_id, service_code=code), expect="exception")
        return message.exception_ids

    def _map_and_retry(self, exception, product):
        action = exception.action_map_code()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"res_id": product.id})
        )
        wizard.action_map_and_retry()
        self._perform_job(exception.message_id)

    def test_a_code_mapped_before_is_suggested_with_its_evidence_then_applied(self):
        first = self._unmapped("CHG-1", "G0402")
        self.assertFalse(first.suggested_fix)
        self._map_and_retry(first, self.product_taxed)
        self.assertEqual(first.state, "resolved")
        self.assertEqual(
            (first.fix_res_model, first.fix_res_id), ("product.product", self.product_taxed.id)
        )
        # Someone archives the mapping; the code comes again, and another one too.
        self.env["integration.code.map"].search(
            [("backend_id", "=", self.backend.id), ("external_code", "=", "G0402")]
        ).active = False
        again = self._unmapped("CHG-2", "G0402")
        other_code = self._unmapped("CHG-3", "G0403")
        self.assertEqual(again.fingerprint, first.fingerprint)
        self.assertEqual(other_code.fingerprint, first.fingerprint)
        self.assertEqual(
            again.suggested_fix,
            "Mapped Service code 'G0402' to Taxed procedure on 1 earlier exception(s) like "
            "this one.",
        )
        self.assertEqual(again.suggested_fix_evidence_ids, first)
        # Another code is not fixed by what fixed this one.
        self.assertFalse(other_code.suggested_fix)

        self.env.flush_all()
        issue = self.env["integration.issue"].search([("fingerprint", "=", again.fingerprint)])
        self.assertEqual(issue.exception_count, 2)
        self.assertEqual(issue.suggested_fix, again.suggested_fix)
        self.assertEqual(issue.suggested_fix_evidence_ids, first)

        issue.action_apply_suggested_fix()
        mapping = self.env["integration.code.map"].search(
            [("backend_id", "=", self.backend.id), ("external_code", "=", "G0402")]
        )
        self.assertEqual(mapping.record_ref, self.product_taxed)
        self.assertEqual(again.message_id.state, "queued")
        self.assertEqual(other_code.message_id.state, "exception")
        self._perform_job(again.message_id)
        self.assertEqual(again.state, "resolved")
        self.assertEqual(self._result(again.message_id).product_id, self.product_taxed)
        self.assertEqual(other_code.state, "open")

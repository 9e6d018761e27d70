from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

from .. import crypto
from .common import HMAC_SECRET, IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestSecurity(IntegrationHubCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.message = cls._create_message()
        cls.outsider = new_test_user(cls.env, "ih_outsider", groups="base.group_user")
        cls.user = new_test_user(
            cls.env, "ih_user", groups="integration_hub.integration_hub_group_user"
        )
        cls.manager = new_test_user(
            cls.env, "ih_manager", groups="integration_hub.integration_hub_group_manager"
        )

    def test_access_matrix(self):
        # (user, model, operation) -> allowed
        matrix = [
            ("outsider", "integration.message", "read", False),
            ("outsider", "integration.exception", "read", False),
            ("outsider", "integration.endpoint", "read", False),
            ("outsider", "integration.endpoint.secret", "read", False),
            ("user", "integration.message", "read", True),
            ("user", "integration.message", "write", False),
            ("user", "integration.exception", "write", True),
            ("user", "integration.endpoint", "read", True),
            ("user", "integration.endpoint", "write", False),
            ("user", "integration.endpoint.secret", "read", False),
            ("user", "integration.code.map", "write", False),
            ("manager", "integration.endpoint", "write", True),
            ("manager", "integration.endpoint.secret", "read", True),
            ("manager", "integration.code.map", "create", True),
            ("manager", "integration.message", "unlink", False),
        ]
        for login, model, operation, allowed in matrix:
            with self.subTest(user=login, model=model, operation=operation):
                user = getattr(self, login)
                self.assertEqual(self.env[model].with_user(user).has_access(operation), allowed)

    def test_outsider_cannot_read_messages(self):
        with self.assertRaises(AccessError):
            self.message.with_user(self.outsider).read(["payload"])

    def test_integration_user_retries_and_ignores_from_exceptions(self):
        self._track_changes()
        for action, message_state in (("action_retry", "queued"), ("action_ignore", "cancelled")):
            with self.subTest(action=action):
                message = self._create_message(contact_event(f"U-{action}", "X", country_code="ZZ"))
                message = message.with_env(self.env)
                self._perform_job(message)
                exception = message.exception_ids.with_user(self.user)
                getattr(exception, action)()
                self._end_transaction()
                self.assertEqual(message.state, message_state)
                tracking = message.message_ids.filtered("tracking_value_ids")[:1]
                self.assertEqual(tracking.author_id, self.user.partner_id)

    def test_manager_without_queue_job_rights_replays_and_cancels(self):
        message = self._create_message(contact_event("M-1", "X", country_code="ZZ"))
        self._perform_job(message)
        message.with_user(self.manager).action_replay()
        self.assertEqual(message.job_id.state, "pending")
        # The job runs as the hub's technical user, not with the manager's rights
        # (managers may not write attempts).
        self.assertEqual(
            message.job_id.user_id, self.env.ref("integration_hub.user_integration_hub")
        )
        self._perform_job(message)
        self.assertEqual((message.state, message.attempt_count), ("exception", 2))
        message.with_user(self.manager).action_replay()
        message.with_user(self.manager).action_cancel()
        self.assertEqual(message.job_id.state, "cancelled")
        self.assertEqual(message.state, "cancelled")

    def test_no_one_reads_a_secret_back(self):
        secret = self.endpoint.secret_ids
        self.assertFalse(secret.with_user(self.manager).secret, "keys are write-only")
        self.assertEqual(secret.with_user(self.manager).hint, "…" + HMAC_SECRET[-4:])
        with self.assertRaises(AccessError):
            secret.with_user(self.manager).read(["secret_encrypted"])
        with self.assertRaises(AccessError):
            secret.with_user(self.user).read(["hint"])

    def test_secret_column_holds_no_plaintext(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT secret_encrypted FROM integration_endpoint_secret WHERE id = %s",
            (self.endpoint.secret_ids.id,),
        )
        stored = self.env.cr.fetchone()[0]
        self.assertNotIn(HMAC_SECRET[6:], stored)
        self.assertNotIn(HMAC_SECRET[6:20], stored)
        self.assertEqual(self.endpoint.secret_ids._decrypted(), HMAC_SECRET)

    def test_saving_a_secret_without_server_key_fails_clearly(self):
        with (
            patch.dict(config.options, {crypto.CONFIG_OPTION: ""}),
            self.assertRaisesRegex(UserError, "integration_hub_encryption_key"),
        ):
            self.env["integration.endpoint.secret"].create(
                {"endpoint_id": self.endpoint.id, "scheme": "v1", "secret": HMAC_SECRET}
            )

    def test_unusable_key_is_refused(self):
        with self.assertRaisesRegex(Exception, "not usable"):
            self.env["integration.endpoint.secret"].create(
                {"endpoint_id": self.endpoint.id, "scheme": "v1", "secret": "whsec_dG9vc2hvcnQ="}
            )

    def test_messages_of_another_company_are_invisible(self):
        other_company = self.env["res.company"].create({"name": "Other clinic group"})
        other = self._create_message(
            endpoint=self._create_endpoint(self._create_backend(company_id=other_company.id))
        )
        visible = self.env["integration.message"].with_user(self.user).search([])
        self.assertIn(self.message, visible)
        self.assertNotIn(other, visible)

    def test_the_service_user_may_work_in_every_company_with_a_backend(self):
        other_company = self.env["res.company"].create({"name": "Southside clinic group"})
        hub_user = self.env.ref("integration_hub.user_integration_hub")
        hub_env = self.env(user=hub_user, su=False)
        with self.assertRaises(AccessError):
            self.assertTrue(hub_env["res.partner"].with_company(other_company).env.companies)
        self._create_backend(company_id=other_company.id)
        self.assertIn(other_company, hub_user.company_ids)
        # What a flow does in a job for that backend: work in the backend's company.
        self.assertEqual(
            hub_env["res.partner"].with_company(other_company).env.company, other_company
        )

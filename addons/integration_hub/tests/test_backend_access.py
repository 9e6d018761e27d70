from odoo.tests import HttpCase, new_test_user, tagged

from .common import IntegrationHubCase, RpcMixin

ACCESS_ERROR = "odoo.exceptions.AccessError"


@tagged("post_install", "-at_install")
class TestBackendActionAccess(RpcMixin, IntegrationHubCase, HttpCase):
    """Who may send traffic, override the circuit or open the SSRF guard, asked over
    JSON-RPC as each role would (the buttons are hidden; RPC must refuse too)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.backend.write({"outbound_url": "https://receiver.example/hooks"})
        cls.users = {
            "outsider": new_test_user(cls.env, "ih_rpc_outsider", groups="base.group_user"),
            "user": new_test_user(
                cls.env, "ih_rpc_user", groups="integration_hub.integration_hub_group_user"
            ),
            "manager": new_test_user(
                cls.env, "ih_rpc_manager", groups="integration_hub.integration_hub_group_manager"
            ),
            "system": new_test_user(
                cls.env,
                "ih_rpc_system",
                groups="integration_hub.integration_hub_group_manager,base.group_system",
            ),
        }

    def _call(self, role, method, *args):
        return self._rpc(self.users[role], "integration.backend", method, self.backend.ids, *args)

    def _outbound_messages(self):
        return self.env["integration.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "out")]
        )

    def _open_circuit(self):
        self.env.cr.execute(
            """INSERT INTO integration_backend_circuit (backend_id, state, failures, opened_at)
               VALUES (%s, 'open', 5, now() at time zone 'utc')
               ON CONFLICT (backend_id) DO UPDATE SET state = 'open', failures = 5""",
            (self.backend.id,),
        )
        self.backend.invalidate_recordset(["circuit_state"])

    def test_send_test_event_needs_the_manager_group(self):
        for role, allowed in (
            ("outsider", False),
            ("user", False),
            ("manager", True),
            ("system", True),
        ):
            with self.subTest(role=role):
                before = self._outbound_messages()
                ok, result = self._call(role, "action_send_test_event")
                created = self._outbound_messages() - before
                self.assertEqual(ok, allowed, result)
                if allowed:
                    self.assertEqual(created.event_type, "integration.test")
                else:
                    self.assertEqual(result, ACCESS_ERROR)
                    self.assertFalse(created, "no test event for someone who may not send it")

    def test_close_circuit_needs_the_manager_group(self):
        for role, allowed in (
            ("outsider", False),
            ("user", False),
            ("manager", True),
            ("system", True),
        ):
            with self.subTest(role=role):
                self._open_circuit()
                ok, result = self._call(role, "action_reset_circuit")
                self.assertEqual(ok, allowed, result)
                self.backend.invalidate_recordset(["circuit_state"])
                self.assertEqual(self.backend.circuit_state, "closed" if allowed else "open")
                if not allowed:
                    self.assertEqual(result, ACCESS_ERROR)

    def test_allow_private_targets_needs_the_system_administrator_and_is_logged(self):
        for role, allowed in (
            ("outsider", False),
            ("user", False),
            ("manager", False),
            ("system", True),
        ):
            with self.subTest(role=role):
                self.backend.outbound_allow_private = False
                ok, result = self._call(role, "write", {"outbound_allow_private": True})
                self.assertEqual(ok, allowed, result)
                self.backend.invalidate_recordset(["outbound_allow_private"])
                self.assertEqual(self.backend.outbound_allow_private, allowed)
                if not allowed:
                    self.assertEqual(result, ACCESS_ERROR)
        # The switch is on the backend's chatter with who made it.
        log = self.backend.message_ids.filtered(
            lambda m: "Allow private network targets switched on" in (m.body or "")
        )
        self.assertEqual(log[:1].author_id, self.users["system"].partner_id)
        # A manager still saves the rest of the form as long as the flag is unchanged.
        ok, result = self._call(
            "manager", "write", {"outbound_allow_private": True, "outbound_read_timeout": 7}
        )
        self.assertTrue(ok, result)
        self.assertEqual(self.backend.outbound_read_timeout, 7)

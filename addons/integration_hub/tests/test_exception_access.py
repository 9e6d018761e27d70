from odoo.tests import HttpCase, new_test_user, tagged

from ..exceptions import UnmappedCodeError
from .common import IntegrationHubCase, RpcMixin, contact_event

ACCESS_ERROR = "odoo.exceptions.AccessError"
USER_ERROR = "odoo.exceptions.UserError"


@tagged("post_install", "-at_install")
class TestExceptionAccess(RpcMixin, IntegrationHubCase, HttpCase):
    """No escalation through exceptions (issue 15, finding 2), asked over JSON-RPC as
    each role would: what an exception is about is the hub's to write, and the actions
    that act with elevated rights (Retry, Map code and retry) check what they act on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        mappers = cls.env["res.groups"].create({"name": "Tag mappers"})
        cls.kind = cls.env["integration.code.kind"].create(
            {
                "code": "test_tag",
                "name": "Contact tag",
                "res_model": "res.partner.category",
                "group_id": mappers.id,
            }
        )
        cls.vip, cls.gold = cls.env["res.partner.category"].create(
            [{"name": "VIP"}, {"name": "Gold"}]
        )
        hub_user = "integration_hub.integration_hub_group_user"
        manager = "integration_hub.integration_hub_group_manager"
        cls.users = {
            "outsider": new_test_user(cls.env, "ix_outsider", groups="base.group_user"),
            "user": new_test_user(cls.env, "ix_hub_user", groups=hub_user),
            "mapper": new_test_user(cls.env, "ix_mapper", groups=hub_user),
            "manager": new_test_user(cls.env, "ix_manager", groups=manager),
            "system": new_test_user(cls.env, "ix_system", groups=f"{manager},base.group_system"),
        }
        cls.users["mapper"].groups_id += mappers
        cls.done = cls._create_message(contact_event("DONE-1"))
        cls.done.write({"state": "done", "job_id": False})
        # A manager's mapping of GOLD: what a clerk must not change through an exception.
        cls.gold_map = cls.env["integration.code.map"].create(
            {
                "backend_id": cls.backend.id,
                "kind": "test_tag",
                "external_code": "GOLD",
                "record_ref": f"res.partner.category,{cls.gold.id}",
            }
        )

    def _exception(self, code="VIP"):
        """An open exception for the unmapped ``code``, as processing leaves it."""
        message = self._create_message(contact_event(f"C-{code}"))
        message.write({"state": "exception", "job_id": False})
        return self.env["integration.exception"]._open_for(
            message, UnmappedCodeError("test_tag", code)
        )

    def _snapshot(self, exception):
        exception.invalidate_recordset()
        return exception.read(
            ["message_id", "state", "kind", "explanation", "code_kind_id", "external_code"]
        )[0]

    def test_no_role_but_the_system_administrator_rewrites_an_exception(self):
        exception = self._exception()
        forged = [
            {"message_id": self.done.id},
            {"state": "resolved"},
            {"explanation": "Nothing went wrong."},
            {"kind": "other"},
            {"code_kind_id": self.kind.id, "external_code": "GOLD"},
            {"resolved_by_id": self.users["user"].id},
            {"event_type": "patient.upserted"},
        ]
        before = self._snapshot(exception)
        for role in ("outsider", "user", "mapper", "manager"):
            for values in forged:
                with self.subTest(role=role, fields=list(values)):
                    ok, result = self._rpc(
                        self.users[role], "integration.exception", "write", exception.ids, values
                    )
                    self.assertEqual((ok, result), (False, ACCESS_ERROR))
        self.assertEqual(self._snapshot(exception), before)
        self.assertEqual(self.done.event_type, "contact.upserted")
        # What a person may write: the assignee and the resolution note.
        ok, result = self._rpc(
            self.users["user"],
            "integration.exception",
            "write",
            exception.ids,
            {"user_id": self.users["user"].id, "resolution_note": "Asked the clinic."},
        )
        self.assertTrue(ok, result)
        self.assertEqual(exception.resolution_note, "Asked the clinic.")
        # Nobody opens one by hand either.
        for role in ("user", "manager"):
            with self.subTest(role=role, method="create"):
                ok, result = self._rpc(
                    self.users[role],
                    "integration.exception",
                    "create",
                    {"message_id": self.done.id, "kind": "other"},
                )
                self.assertEqual((ok, result), (False, ACCESS_ERROR))
        # The system administrator keeps the last word (repairs).
        ok, result = self._rpc(
            self.users["system"],
            "integration.exception",
            "write",
            exception.ids,
            {"explanation": "Repaired by the administrator."},
        )
        self.assertTrue(ok, result)

    def test_a_done_message_is_not_processed_again_through_an_exception(self):
        # The path: replay refused, so point an exception at the done message,
        # reopen it and press Retry.
        closed = self._exception("OLD")
        closed.sudo().write({"state": "resolved"})
        user = self.users["user"]
        self.assertEqual(
            self._rpc(user, "integration.message", "action_replay", self.done.ids),
            (False, ACCESS_ERROR),
        )
        self.assertEqual(
            self._rpc(
                user, "integration.exception", "write", closed.ids, {"message_id": self.done.id}
            ),
            (False, ACCESS_ERROR),
        )
        self.assertEqual(
            self._rpc(user, "integration.exception", "write", closed.ids, {"state": "open"}),
            (False, ACCESS_ERROR),
        )
        self.assertEqual(
            self._rpc(user, "integration.exception", "action_retry", closed.ids),
            (False, USER_ERROR),
        )
        self.done.invalidate_recordset()
        self.assertEqual((self.done.state, self.done.job_id.id), ("done", False))

    def test_map_code_changes_no_code_map_a_manager_made(self):
        exception = self._exception("VIP")
        mapper = self.users["mapper"]
        # Forging the exception's code to GOLD is refused…
        self.assertEqual(
            self._rpc(
                mapper, "integration.exception", "write", exception.ids, {"external_code": "GOLD"}
            ),
            (False, ACCESS_ERROR),
        )
        # … and an exception genuinely about GOLD, opened before the manager mapped it,
        # does not let the wizard change the mapping either, whoever runs it.
        stale = self._exception("GOLD")
        for role in ("mapper", "manager"):
            with self.subTest(role=role):
                ok, wizard_id = self._rpc(
                    self.users[role],
                    "integration.code.map.wizard",
                    "create",
                    {"exception_id": stale.id, "res_id": self.vip.id},
                )
                self.assertTrue(ok, wizard_id)
                self.assertEqual(
                    self._rpc(
                        self.users[role],
                        "integration.code.map.wizard",
                        "action_map_and_retry",
                        [wizard_id],
                    ),
                    (False, USER_ERROR),
                )
        self.gold_map.invalidate_recordset()
        self.assertEqual(self.gold_map.record_ref, self.gold)
        # The genuine, unmapped VIP: mapped and retried, in the mapper's name.
        ok, wizard_id = self._rpc(
            mapper,
            "integration.code.map.wizard",
            "create",
            {"exception_id": exception.id, "res_id": self.vip.id},
        )
        self.assertTrue(
            self._rpc(mapper, "integration.code.map.wizard", "action_map_and_retry", [wizard_id])[0]
        )
        exception.invalidate_recordset()
        self.assertEqual(
            (exception.state, exception.message_id.state, exception.retry_user_id),
            ("in_progress", "queued", mapper),
        )
        logged = exception.message_ids.filtered(lambda m: m.author_id == mapper.partner_id)
        self.assertTrue(any("Retry requested by" in (m.body or "") for m in logged))
        self.assertTrue(any("mapped Contact tag code 'VIP'" in (m.body or "") for m in logged))

    def test_a_user_outside_the_kind_group_cannot_map_or_forge_their_way_in(self):
        exception = self._exception("VIP")
        user = self.users["user"]
        ok, wizard_id = self._rpc(
            user,
            "integration.code.map.wizard",
            "create",
            {"exception_id": exception.id, "res_id": self.vip.id},
        )
        self.assertTrue(ok, wizard_id)
        self.assertEqual(
            self._rpc(user, "integration.code.map.wizard", "action_map_and_retry", [wizard_id]),
            (False, ACCESS_ERROR),
        )
        self.assertEqual(
            self._rpc(user, "integration.code.kind", "write", self.kind.ids, {"group_id": False}),
            (False, ACCESS_ERROR),
        )
        self.assertFalse(
            self.env["integration.code.map"].search(
                [("kind", "=", "test_tag"), ("external_code", "=", "VIP")]
            )
        )

from datetime import datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..exceptions import UnmappedCodeError, WaitingForRecordError
from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestBinder(IntegrationHubCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.binder = cls.env["integration.binding"]
        cls.partner = cls.env["res.partner"].create({"name": "Bound Clinic"})

    def test_bind_then_find_both_ways_per_backend(self):
        binding = self.binder._bind(self.backend, "EXT-1", self.partner)
        self.assertEqual(binding.external_id, "EXT-1")
        self.assertEqual(
            self.binder._to_internal(self.backend, "res.partner", "EXT-1"), self.partner
        )
        self.assertEqual(self.binder._to_external(self.backend, self.partner), "EXT-1")
        other = self._create_backend()
        unbound = self.binder._to_internal(other, "res.partner", "EXT-1")
        self.assertEqual((unbound._name, len(unbound)), ("res.partner", 0))
        self.assertFalse(self.binder._to_external(other, self.partner))

    def test_rebind_moves_every_external_id_of_a_record_to_another(self):
        other = self._create_backend()
        self.binder._bind(self.backend, "EXT-1", self.partner)
        self.binder._bind(other, "OTHER-1", self.partner)
        survivor = self.env["res.partner"].create({"name": "Survivor"})
        self.binder._bind(self.backend, "EXT-2", survivor)
        self.assertEqual(len(self.binder._rebind(self.partner, survivor)), 2)
        for backend, external_id in ((self.backend, "EXT-1"), (other, "OTHER-1")):
            self.assertEqual(
                self.binder._to_internal(backend, "res.partner", external_id), survivor
            )
        self.assertFalse(self.binder._to_external(other, self.partner))
        self.assertEqual(self.binder._to_external(other, survivor), "OTHER-1")

    def test_bind_again_updates_the_one_binding(self):
        first = self.binder._bind(self.backend, 42, self.partner)
        other_partner = self.env["res.partner"].create({"name": "Moved"})
        message = self._create_message()
        second = self.binder._bind(self.backend, "42", other_partner, message=message)
        self.assertEqual(first, second)
        self.assertEqual(second.last_message_id, message)
        self.assertEqual(self.binder._to_internal(self.backend, "res.partner", 42), other_partner)
        self.assertEqual(self.binder.search_count([("backend_id", "=", self.backend.id)]), 1)

    def test_to_internal_with_wait_raises_waiting_for_record(self):
        with self.assertRaises(WaitingForRecordError) as caught:
            self.binder._to_internal(self.backend, "res.partner", "ORG-9", wait=True)
        self.assertEqual(
            (caught.exception.res_model, caught.exception.external_id, caught.exception.kind),
            ("res.partner", "ORG-9", "waiting"),
        )
        self.assertIn("'ORG-9'", str(caught.exception))

    def test_a_deleted_record_is_unbound(self):
        self.binder._bind(self.backend, "GONE", self.partner)
        self.partner.unlink()
        self.assertFalse(self.binder._to_internal(self.backend, "res.partner", "GONE"))

    def test_is_stale_compares_with_the_last_applied_update(self):
        applied = datetime(2026, 11, 21, 10, 0)
        self.assertFalse(self.binder._is_stale(self.backend, "res.partner", "S-1", applied))
        self.binder._bind(self.backend, "S-1", self.partner, updated_at=applied)
        for updated_at, stale in (
            (datetime(2026, 11, 21, 9, 59), True),
            (applied, False),
            (datetime(2026, 11, 21, 10, 1), False),
            (None, False),
        ):
            with self.subTest(updated_at=updated_at):
                self.assertEqual(
                    self.binder._is_stale(self.backend, "res.partner", "S-1", updated_at), stale
                )


@tagged("post_install", "-at_install")
class TestWaitingForRecord(IntegrationHubCase, TransactionCase):
    """A contact names its organisation (parent_id), which may arrive after it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()  # 3 attempts, backoff 10 s then 60 s

    def _person(self, contact_id="P-1", parent_id="ORG-1"):
        return self._create_message(contact_event(contact_id, "Dr Person", parent_id=parent_id))

    def test_waiting_message_retries_on_schedule_then_opens_a_waiting_exception(self):
        message = self._person()
        self._perform_job(message)
        self.assertEqual(message.state, "retrying")
        self.assertEqual(message.attempt_ids.outcome, "waiting")
        self.assertEqual(
            (message.waiting_res_model, message.waiting_external_id), ("res.partner", "ORG-1")
        )
        self.assertTrue(message.job_id.eta, "the next attempt follows the backend's schedule")
        self._perform_job(message)
        self.assertEqual(message.state, "retrying")
        self._perform_job(message)
        self.assertEqual(message.state, "exception", "never dead while waiting")
        self.assertEqual(message.attempt_count, 3)
        exception = message.exception_ids
        self.assertEqual(exception.kind, "waiting")
        self.assertEqual(
            (exception.waiting_res_model, exception.waiting_external_id),
            ("res.partner", "ORG-1"),
        )
        self.assertFalse(self._partners("P-1"), "nothing of the waiting message was kept")

    def test_binding_the_awaited_record_retries_the_waiting_message_at_once(self):
        self.backend.batch_size = 1  # the woken job itself, not a batch taking it
        message = self._person()
        self._perform_job(message)
        job = message.job_id
        self.assertTrue(job.eta)
        organisation = self._create_message(contact_event("ORG-1", "Northside Group"))
        self._perform_job(organisation)
        job.invalidate_recordset()
        self.assertFalse(job.eta, "the waiting message's job runs now")
        self.assertEqual(job.state, "pending")
        self.assertFalse(message.next_attempt_date)
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(self._partners("P-1").parent_id, self._partners("ORG-1"))
        self.assertFalse(message.waiting_external_id)

    def test_binding_the_awaited_record_retries_its_open_exception(self):
        self.backend.batch_size = 1  # the replayed message's own job, not a batch
        message = self._person()
        for _attempt in range(3):
            self._perform_job(message)
        exception = message.exception_ids
        self.assertEqual(exception.state, "open")
        unrelated = self._person("P-2", parent_id="ORG-2")
        self._perform_job(unrelated)
        self._perform_job(self._create_message(contact_event("ORG-1", "Northside Group")))
        self.assertEqual(message.state, "queued")
        self.assertEqual(exception.state, "in_progress")
        self.assertIn("arrived", exception.message_ids[:1].body)
        self.assertEqual(unrelated.state, "retrying", "only the messages waiting for ORG-1")
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(exception.state, "resolved")

    def test_a_message_of_another_backend_is_not_woken(self):
        message = self._person()
        self._perform_job(message)
        job = message.job_id
        other_endpoint = self._create_endpoint(self._create_backend())
        self._perform_job(
            self._create_message(contact_event("ORG-1", "Elsewhere"), endpoint=other_endpoint)
        )
        job.invalidate_recordset()
        self.assertTrue(job.eta)


@tagged("post_install", "-at_install")
class TestUnmappedCodes(IntegrationHubCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.mappers = cls.env["res.groups"].create({"name": "Tag mappers"})
        cls.kind = cls.env["integration.code.kind"].create(
            {
                "code": "test_tag",
                "name": "Contact tag",
                "res_model": "res.partner.category",
                "domain": "[('parent_id', '=', False)]",
                "group_id": cls.mappers.id,
            }
        )
        cls.tag = cls.env["res.partner.category"].create({"name": "VIP"})
        cls.child_tag = cls.env["res.partner.category"].create(
            {"name": "VIP child", "parent_id": cls.tag.id}
        )
        cls.mapper = new_test_user(
            cls.env,
            login="tag_mapper",
            groups="base.group_user,integration_hub.integration_hub_group_user",
        )
        cls.mapper.groups_id += cls.mappers
        cls.outsider = new_test_user(
            cls.env,
            login="tag_outsider",
            groups="base.group_user,integration_hub.integration_hub_group_user",
        )

    def _exception_for(self, code):
        """A message whose processing met the unmapped ``code``, as _job_process leaves it."""
        message = self._create_message()
        message.write({"state": "exception", "job_id": False})
        return self.env["integration.exception"]._open_for(
            message, UnmappedCodeError("test_tag", code)
        )

    def _wizard(self, exception, user, record):
        return (
            self.env["integration.code.map.wizard"]
            .with_user(user)
            .create({"exception_id": exception.id, "res_id": record.id})
        )

    def test_resolve_raises_unmapped_code_error_with_kind_and_code(self):
        code_maps = self.env["integration.code.map"]
        with self.assertRaises(UnmappedCodeError) as caught:
            code_maps._resolve(self.backend, "test_tag", "VIP")
        self.assertEqual((caught.exception.code_kind, caught.exception.code), ("test_tag", "VIP"))
        self.assertEqual(caught.exception.kind, "unmapped_code")
        self.assertIn("Contact tag code 'VIP'", str(caught.exception))
        code_maps.create(
            {
                "backend_id": self.backend.id,
                "kind": "test_tag",
                "external_code": "VIP",
                "record_ref": f"res.partner.category,{self.tag.id}",
            }
        )
        self.assertEqual(code_maps._resolve(self.backend, "test_tag", "VIP"), self.tag)

    def test_resolve_refuses_a_record_the_kind_does_not_accept(self):
        for record in (self.env.ref("base.fr"), self.child_tag):
            with self.subTest(record=record.display_name):
                self.env["integration.code.map"].search([("kind", "=", "test_tag")]).unlink()
                self.env["integration.code.map"].create(
                    {
                        "backend_id": self.backend.id,
                        "kind": "test_tag",
                        "external_code": "VIP",
                        "record_ref": f"{record._name},{record.id}",
                    }
                )
                with self.assertRaisesRegex(UnmappedCodeError, "cannot stand for"):
                    self.env["integration.code.map"]._resolve(self.backend, "test_tag", "VIP")

    def test_unmapped_code_opens_an_exception_with_its_code_kind_and_code(self):
        exception = self._exception_for("VIP")
        self.assertEqual(exception.kind, "unmapped_code")
        self.assertEqual((exception.code_kind_id, exception.external_code), (self.kind, "VIP"))
        self.assertTrue(exception.with_user(self.mapper).can_map_code)
        self.assertFalse(exception.with_user(self.outsider).can_map_code)
        action = exception.with_user(self.mapper).action_map_code()
        self.assertEqual(action["res_model"], "integration.code.map.wizard")

    def test_mapping_a_code_retries_every_open_exception_on_the_same_code(self):
        first, second = self._exception_for("VIP"), self._exception_for("VIP")
        other_code = self._exception_for("GOLD")
        other_backend = self._create_backend()
        elsewhere = self._create_message(endpoint=self._create_endpoint(other_backend))
        elsewhere.write({"state": "exception", "job_id": False})
        elsewhere_exception = self.env["integration.exception"]._open_for(
            elsewhere, UnmappedCodeError("test_tag", "VIP")
        )
        wizard = self._wizard(first, self.mapper, self.tag)
        self.assertEqual(wizard.waiting_count, 2)
        wizard.action_map_and_retry()
        mapping = self.env["integration.code.map"].search(
            [("backend_id", "=", self.backend.id), ("kind", "=", "test_tag")]
        )
        self.assertEqual(mapping.record_ref, self.tag)
        self.assertEqual(mapping.message_ids[:1].author_id, self.mapper.partner_id)
        self.assertIn(
            f"{self.mapper.name} mapped Contact tag code 'VIP' of Test scheduling to VIP",
            mapping.message_ids[:1].body,
        )
        for exception in first | second:
            self.assertEqual(exception.state, "in_progress")
            self.assertEqual(exception.message_id.state, "queued")
            self.assertEqual(exception.retry_user_id, self.mapper)
            self.assertFalse(exception.resolved_by_id, "not resolved before it succeeds")
            self.assertTrue(any("mapped Contact tag code" in m.body for m in exception.message_ids))
        self.assertEqual(other_code.state, "open")
        self.assertEqual(elsewhere_exception.state, "open", "code maps are per backend")
        self._perform_job(first.message_id)
        self.assertEqual(first.state, "resolved")
        self.assertEqual(first.resolved_by_id, self.mapper, "resolved by who retried it")

    def test_a_user_outside_the_kind_group_cannot_map(self):
        exception = self._exception_for("VIP")
        with self.assertRaises(AccessError):
            exception.with_user(self.outsider).action_map_code()
        with self.assertRaises(AccessError):
            self._wizard(exception, self.outsider, self.tag).action_map_and_retry()
        self.assertFalse(self.env["integration.code.map"].search([("kind", "=", "test_tag")]))
        self.assertEqual(exception.state, "open")

    def test_mapping_to_a_record_outside_the_kind_domain_is_refused(self):
        exception = self._exception_for("VIP")
        with self.assertRaisesRegex(UserError, "cannot stand for a Contact tag code"):
            self._wizard(exception, self.mapper, self.child_tag).action_map_and_retry()
        self.assertFalse(self.env["integration.code.map"].search([("kind", "=", "test_tag")]))
        self.assertEqual(exception.state, "open")

    def test_a_code_kind_needs_a_model_and_a_valid_domain(self):
        kinds = self.env["integration.code.kind"]
        with self.assertRaisesRegex(Exception, "is not a model"):
            kinds.create({"code": "x1", "name": "X", "res_model": "no.such.model"})
        with self.assertRaisesRegex(Exception, "domain is not valid"):
            kinds.create(
                {
                    "code": "x2",
                    "name": "X",
                    "res_model": "res.partner",
                    "domain": "[('nope', '=', 1)]",
                }
            )

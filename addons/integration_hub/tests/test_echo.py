from odoo.tests import TransactionCase, tagged

from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestEcho(IntegrationHubCase, TransactionCase):
    """A change a backend's message made is not told back to that backend."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.contact_out = cls.env.ref("integration_hub.integration_event_type_contact_upserted_out")
        cls.env["integration.subscription"].search([]).write({"active": False})
        cls.other_backend = cls._create_backend(name="Billing system")
        cls.own_subscription, cls.other_subscription = cls.env["integration.subscription"].create(
            [
                {
                    "backend_id": backend.id,
                    "event_type_id": cls.contact_out.id,
                    "trigger": "on_create_or_write",
                }
                for backend in (cls.backend, cls.other_backend)
            ]
        )

    def _outbound(self, partner):
        return self.env["integration.message"].search(
            [("direction", "=", "out"), ("result_res_id", "=", partner.id)]
        )

    def _receive(self, name):
        message = self._create_message(contact_event("C-ECHO", name))
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        return message, self._partners("C-ECHO")

    def test_inbound_change_is_sent_to_other_backends_not_back_to_its_sender(self):
        inbound, partner = self._receive("Echo Clinic")
        outbound = self._outbound(partner)
        self.assertEqual(outbound.backend_id, self.other_backend)
        self.assertEqual(outbound.cause_message_id, inbound)
        self.assertEqual(inbound.caused_message_ids, outbound)

    def test_allow_echo_sends_the_backend_its_own_change(self):
        self.own_subscription.allow_echo = True
        inbound, partner = self._receive("Echo Clinic")
        outbound = self._outbound(partner)
        self.assertEqual(outbound.backend_id, self.backend | self.other_backend)
        self.assertEqual(outbound.cause_message_id, inbound)

    def test_a_person_s_change_reaches_every_subscriber(self):
        _inbound, partner = self._receive("Echo Clinic")
        before = self._outbound(partner)
        partner.write({"name": "Echo Clinic (renamed in Odoo)"})
        self._end_transaction()
        after = self._outbound(partner) - before
        self.assertEqual(after.backend_id, self.backend | self.other_backend)
        self.assertFalse(after.cause_message_id)

    def test_messages_are_named_and_searched_by_their_business_reference(self):
        profile = self.env["integration.endpoint"]._webhook_profile(self.endpoint.id)
        _status, body = self.env["integration.endpoint"]._intake(
            profile, "msg_ref", contact_event("C-ECHO", "Echo Clinic")
        )
        inbound = self.env["integration.message"].browse(body["id"])
        self.assertEqual(inbound.reference, "C-ECHO")
        self.assertEqual(inbound.display_name, "C-ECHO · contact.upserted")
        found = self.env["integration.message"].search([("reference", "=", "C-ECHO")])
        self.assertIn(inbound, found)
        self._perform_job(inbound)
        outbound = self._outbound(self._partners("C-ECHO"))
        self.assertTrue(outbound.reference, "an outbound message names its record too")

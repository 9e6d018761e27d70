import json

from odoo.tests import TransactionCase, tagged

from .. import signatures
from ..exceptions import IntakeError
from .common import IntegrationHubCase, contact_event

BEARER = "bearer-token-of-a-fhir-server"


@tagged("post_install", "-at_install")
class TestIntake(IntegrationHubCase, TransactionCase):
    """The one intake that the webhook and the format adapters (HL7, FHIR) share."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.env["integration.endpoint.secret"].create(
            {"endpoint_id": cls.endpoint.id, "scheme": "bearer", "secret": BEARER}
        )

    def _profile(self):
        return self.env["integration.endpoint"]._webhook_profile(self.endpoint.id)

    def _intake(self, sender_id, envelope, raw_body):
        return self.env["integration.endpoint"]._intake(
            self._profile(), sender_id, envelope, raw_body=raw_body, source_format="json"
        )

    def test_intake_stores_canonical_event_beside_the_original_and_queues_it(self):
        envelope = contact_event("C-7", "Lakeside Clinic")
        status, body = self._intake("MSG-1#1", envelope, "MSH|^~\\&|original")
        self.assertEqual((status, body["status"]), (202, "queued"))
        message = self.env["integration.message"].browse(body["id"])
        self.assertEqual(json.loads(message.payload), envelope)
        self.assertEqual(message.raw_body, "MSH|^~\\&|original")
        self.assertEqual(message.sender_message_id, "MSG-1#1")
        self.assertTrue(message.job_id, "the processing job is stored with the message")

    def test_intake_same_original_again_is_a_duplicate_another_is_a_conflict(self):
        envelope = contact_event("C-8")
        _status, first = self._intake("MSG-2", envelope, "original A")
        status, again = self._intake("MSG-2", envelope, "original A")
        self.assertEqual((status, again), (200, {"id": first["id"], "status": "duplicate"}))
        with self.assertRaises(IntakeError) as refused:
            self._intake("MSG-2", envelope, "original B")
        self.assertEqual(
            (refused.exception.status, refused.exception.code), (409, "webhook_id_conflict")
        )
        message = self.env["integration.message"].browse(first["id"])
        self.assertEqual((message.duplicate_count, message.raw_body), (1, "original A"))

    def test_intake_data_breaking_the_schema_is_refused_with_the_field_path(self):
        envelope = contact_event("C-9")
        envelope["data"]["email"] = 42
        with self.assertRaises(IntakeError) as refused:
            self._intake("MSG-3", envelope, "original")
        self.assertEqual((refused.exception.status, refused.exception.code), (400, "invalid_data"))
        self.assertIn("email", refused.exception.message)
        self.assertFalse(
            self.env["integration.message"].search([("sender_message_id", "=", "MSG-3")])
        )

    def test_bearer_token_is_checked_in_constant_time_and_expires_with_its_key(self):
        profile = self._profile()
        self.assertTrue(profile.check_bearer(f"Bearer {BEARER}"))
        self.assertTrue(profile.check_bearer(f"bearer  {BEARER} "))
        for wrong in (None, "", BEARER, f"Bearer {BEARER}x", f"Basic {BEARER}", "Bearer "):
            with self.subTest(authorization=wrong):
                self.assertFalse(profile.check_bearer(wrong))
        self.endpoint.secret_ids.filtered(
            lambda s: s.scheme == "bearer"
        ).expire_date = "2020-01-01 00:00:00"
        self.assertFalse(self._profile().check_bearer(f"Bearer {BEARER}"))

    def test_bearer_key_is_write_only_and_never_a_signature_key(self):
        key = self.endpoint.secret_ids.filtered(lambda s: s.scheme == "bearer")
        self.env.invalidate_all()
        self.assertFalse(key.secret)
        self.assertEqual(key.hint, "…" + BEARER[-4:])
        for short in ("short", "has spaces inside it", "tøken-with-non-ascii"):
            with self.subTest(token=short), self.assertRaises(ValueError):
                signatures.check_key(signatures.SCHEME_BEARER, short)
        # A bearer token is no HMAC secret: a body "signed" with it is refused.
        body = json.dumps(contact_event()).encode()
        with self.assertRaises(signatures.SignatureError):
            signatures.verify(
                [(signatures.SCHEME_BEARER, BEARER)],
                "msg_x",
                "1",
                body,
                "v1,AAAA",
            )

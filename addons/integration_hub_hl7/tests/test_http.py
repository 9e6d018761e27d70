from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import OTHER_SECRET, signed_headers
from odoo.addons.integration_hub_billing.tests.common import BillingCase

from .. import hl7v2
from .common import SAMPLE_NAMES, HL7CaseMixin, message, sample

HL7_TYPE = "x-application/hl7-v2+er7"
BEARER = "hl7-bridge-token-0123456789"


@tagged("post_install", "-at_install")
class TestHl7Http(HL7CaseMixin, BillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hl7()

    def _post(self, raw, headers=None, token=None, content_type=HL7_TYPE, secret=None):
        if headers is None and not raw.isascii():
            # Standard Webhooks signs text; a bridge sending ISO 8859-1 uses a bearer key.
            self._add_bearer()
            headers = {"Content-Type": content_type, "Authorization": f"Bearer {BEARER}"}
        if headers is None:
            headers = signed_headers(raw, secret) if secret else signed_headers(raw)
            headers["Content-Type"] = content_type
        url = f"/integration/hl7/{token or self.endpoint.token}"
        return self.url_open(url, data=raw, headers=headers, allow_redirects=False)

    def _add_bearer(self):
        if "bearer" not in self.endpoint.secret_ids.mapped("scheme"):
            self.env["integration.endpoint.secret"].create(
                {"endpoint_id": self.endpoint.id, "scheme": "bearer", "secret": BEARER}
            )

    def assertAck(self, response, status, code, control_id="", err_code=""):
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith(HL7_TYPE))
        self.assertNotIn("Traceback", response.text)
        ack = hl7v2.parse_ack(response.content)
        self.assertEqual(ack[0], code, ack)
        self.assertEqual(ack[1], control_id)
        if err_code:
            self.assertEqual(ack[3], err_code, ack)
        return ack

    def test_every_sample_is_stored_with_its_raw_message_and_answered_aa(self):
        expected = {
            "ADT_A04.hl7": ["patient.upserted", "payer.upserted"],
            "SIU_S12.hl7": ["appointment.scheduled"],
            "SIU_S14_completed.hl7": ["appointment.completed"],
            "SIU_S15_cancelled.hl7": ["appointment.cancelled"],
            "DFT_P03.hl7": ["payer.upserted", "charge.captured"],
        }
        for name in SAMPLE_NAMES:
            with self.subTest(sample=name):
                raw = sample(name)
                before = self._messages()
                control_id = hl7v2.parse(raw).header.control_id
                self.assertAck(self._post(raw), 200, "AA", control_id)
                stored = self._messages() - before
                self.assertEqual(stored.mapped("event_type"), expected[name])
                self.assertEqual(set(stored.mapped("state")), {"queued"})
                self.assertEqual(set(stored.mapped("source_format")), {"hl7v2"})
                self.assertEqual(set(stored.mapped("raw_body")), {raw.decode()})
                self.assertTrue(
                    all(m.sender_message_id.startswith(control_id + "/") for m in stored)
                )
                self.assertTrue(all(m.job_id.state == "pending" for m in stored))

    def test_same_control_id_and_body_is_acknowledged_again_and_stored_once(self):
        raw = sample("DFT_P03.hl7")
        self.assertAck(self._post(raw), 200, "AA", "DFT-9001-1")
        stored = self._messages()
        self.assertAck(self._post(raw), 200, "AA", "DFT-9001-1")
        self.assertEqual(self._messages(), stored)
        self.assertEqual(stored.mapped("duplicate_count"), [1, 1])

    def test_same_control_id_with_another_body_is_refused_and_stores_nothing(self):
        raw = sample("DFT_P03.hl7")
        self.assertAck(self._post(raw), 200, "AA", "DFT-9001-1")
        stored = self._messages()
        other = raw.replace(b"|1|120.00&USD|120.00&USD|", b"|2|240.00&USD|120.00&USD|").replace(
            b"\rIN1|", b"\rFT1|2|CHG-9009||20261121||CG|99213|||1|10.00\rIN1|"
        )
        self.assertAck(self._post(other), 409, "AR", "DFT-9001-1", hl7v2.ERR_DUPLICATE_KEY)
        self.assertEqual(self._messages(), stored, "the new FT1 must not be stored either")

    def test_unparsable_message_is_refused_with_an_err(self):
        for raw, err in ((b"PID|1||P-1\r", "100"), (b"\x00\xff\xfe\x01garbage", "100")):
            with self.subTest(raw=raw):
                self.assertAck(self._post(raw), 400, "AR", "", err)
        self.assertFalse(self._messages())

    def test_mapping_error_names_the_field_and_stores_nothing(self):
        raw = sample("DFT_P03.hl7").replace(b"|1|120.00&USD|", b"|1|12O.00&USD|")
        ack = self.assertAck(self._post(raw), 400, "AR", "DFT-9001-1", hl7v2.ERR_DATA_TYPE)
        self.assertIn("FT1-11", ack[2])
        self.assertFalse(self._messages())

    def test_unaccepted_sender_is_refused_ar_403(self):
        raw = sample("ADT_A04.hl7").replace(b"|SCHED|CLINIC-N|", b"|SCHED|CLINIC-S|")
        self.assertAck(self._post(raw), 403, "AR", "ADT-000123-1")
        self.assertFalse(self._messages())

    def test_bad_or_missing_signature_is_refused_401_with_an_ack(self):
        raw = sample("ADT_A04.hl7")
        self.assertAck(self._post(raw, secret=OTHER_SECRET), 401, "AR", "ADT-000123-1")
        self.assertAck(
            self._post(raw, headers={"Content-Type": HL7_TYPE}), 401, "AR", "ADT-000123-1"
        )
        self.assertFalse(self._messages())

    def test_other_content_type_is_refused_415(self):
        self.assertAck(
            self._post(sample("ADT_A04.hl7"), content_type="application/json"), 415, "AR"
        )
        for content_type in ("application/hl7-v2", "text/plain; charset=utf-8"):
            with self.subTest(content_type=content_type):
                response = self._post(sample("SIU_S12.hl7"), content_type=content_type)
                self.assertAck(response, 200, "AA", "SIU-5001-1")

    def test_unknown_token_and_get_are_answered_with_an_ack(self):
        self.assertAck(self._post(sample("ADT_A04.hl7"), token="no-such-endpoint"), 404, "AR")
        response = self.url_open(f"/integration/hl7/{self.endpoint.token}")
        self.assertAck(response, 405, "AR")

    def test_endpoint_with_a_bearer_token_accepts_it_instead_of_a_signature(self):
        self._add_bearer()
        raw = sample("SIU_S12.hl7")
        headers = {"Content-Type": HL7_TYPE, "Authorization": f"Bearer {BEARER}"}
        self.assertAck(self._post(raw, headers=headers), 200, "AA", "SIU-5001-1")
        headers["Authorization"] = "Bearer wrong-token-0123456789"
        self.assertAck(self._post(raw, headers=headers), 401, "AR", "SIU-5001-1")

    def test_unmapped_trigger_is_stored_ignored_and_acknowledged(self):
        raw = sample("ADT_A04.hl7").replace(b"ADT^A04^ADT_A01", b"ADT^A03^ADT_A03")
        self.assertAck(self._post(raw), 200, "AA", "ADT-000123-1")
        stored = self._messages()
        self.assertEqual((stored.event_type, stored.state), ("hl7v2.ADT_A03", "ignored"))
        self.assertEqual(stored.raw_body, raw.decode())

    def test_iso_8859_1_message_is_stored_as_text_and_answered_in_its_charset(self):
        raw = message(
            "PID|1||PAT-9^^^CLINIC^MR||Müller^Zoë", "IN1|1|PLAN-01|PAY-ACME|Acme", charset="8859/1"
        )
        self.endpoint.event_type_ids = [Command.link(self.billing_types[0].id)]
        response = self._post(raw)
        self.assertAck(response, 200, "AA", "CTRL-1")
        self.assertIn("charset=iso-8859-1", response.headers["Content-Type"])
        patient = self._messages().filtered(lambda m: m.event_type == "patient.upserted")
        self.assertIn("Zoë Müller", patient.payload)
        self.assertIn("Müller^Zoë", patient.raw_body)

import json

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import OTHER_SECRET, signed_headers

from .common import FhirCase
from .samples import SAMPLES, dumps, sample, sample_bytes

BEARER = "fhir-test-bearer-token-0123456789"
SINGLE = {
    "Patient": "patient.upserted",
    "Organization-payer": "payer.upserted",
    "Coverage": "coverage.upserted",
    "Encounter": "appointment.completed",
    "ChargeItem": "charge.captured",
    "PaymentReconciliation": "payment.posted",
}


@tagged("post_install", "-at_install")
class TestFhirEndpoint(FhirCase, HttpCase):
    """FHIR resources and Bundles through real HTTP requests to the controller."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_fhir()
        cls.env["integration.endpoint.secret"].create(
            {"endpoint_id": cls.endpoint.id, "scheme": "bearer", "secret": BEARER}
        )

    def _post(self, body, path="", headers=None, auth="bearer"):
        if isinstance(body, dict):
            body = dumps(body)
        if auth == "bearer":
            sent = {"Authorization": f"Bearer {BEARER}"}
        elif auth == "signature":
            sent = signed_headers(body)
        else:
            sent = {}
        sent["Content-Type"] = "application/fhir+json"
        sent.update(headers or {})
        url = f"{self.base_url()}/integration/fhir/{self.endpoint.token}{path}"
        method = "PUT" if path else "POST"
        return self.opener.request(
            method, url, data=body, headers=sent, timeout=30, allow_redirects=False
        )

    def _messages(self):
        return self.env["integration.message"].search(
            [("endpoint_id", "=", self.endpoint.id)], order="id"
        )

    def _message_id(self, outcome):
        text = outcome["issue"][0]["details"]["text"]
        return int(text.rsplit(" ", 1)[1])

    def _run_all(self):
        for message in self._messages().filtered(lambda m: m.state in ("queued", "retrying")):
            self._perform_job(message)

    def assertOutcome(self, response, status, code, expression=None):
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("application/fhir+json"))
        outcome = response.json()
        self.assertEqual(outcome["resourceType"], "OperationOutcome")
        codes = [c["code"] for i in outcome["issue"] for c in i["details"]["coding"]]
        self.assertIn(code, codes)
        if expression:
            expressions = [e for i in outcome["issue"] for e in i.get("expression", [])]
            self.assertIn(expression, expressions)
        return outcome

    # -- accepted --------------------------------------------------------------------
    def test_every_shipped_sample_is_covered_here(self):
        names = {path.stem for path in SAMPLES.glob("*.json")}
        self.assertEqual(names, set(SINGLE) | {"Bundle-transaction"})

    def test_every_sample_as_a_single_resource_is_stored_and_answered_202(self):
        for name, event_type in SINGLE.items():
            with self.subTest(sample=name):
                body = sample_bytes(name)
                response = self._post(body)
                outcome = self.assertOutcome(response, 202, "queued")
                self.assertEqual(outcome["issue"][0]["severity"], "information")
                message = self.env["integration.message"].browse(self._message_id(outcome))
                self.assertEqual(message.event_type, event_type)
                self.assertEqual(message.source_format, "fhir_r4")
                self.assertEqual(json.loads(message.raw_body), json.loads(body))
                self.assertEqual(message.state, "queued")

    def test_samples_sent_one_by_one_make_patient_visit_and_invoiced_charge(self):
        for name in ("Patient", "Organization-payer", "Coverage", "Encounter", "ChargeItem"):
            self.assertEqual(self._post(sample_bytes(name)).status_code, 202)
        self._run_all()
        self.assertEqual(set(self._messages().mapped("state")), {"done"})
        charge = self._bound("integration.charge", "CHG-9001")
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(charge.patient_id.name, "Jane Doe")
        self.assertEqual(charge.appointment_id, self._bound("integration.appointment", "APT-5001"))

    def test_transaction_bundle_answers_one_status_per_entry(self):
        response = self._post(sample_bytes("Bundle-transaction"))
        self.assertEqual(response.status_code, 200, response.text)
        bundle = response.json()
        self.assertEqual(bundle["type"], "transaction-response")
        self.assertEqual([e["response"]["status"] for e in bundle["entry"]], ["202 Accepted"] * 3)
        self.assertEqual(
            [e["response"]["location"] for e in bundle["entry"]],
            [
                "Patient/PAT-000123/_history/3",
                "Encounter/APT-5001/_history/4",
                "ChargeItem/CHG-9001",
            ],
        )
        messages = self._messages()
        self.assertEqual(
            messages.mapped("event_type"),
            ["patient.upserted", "appointment.completed", "charge.captured"],
        )
        self.assertEqual(
            messages.mapped("sender_message_id")[:2],
            ["Patient/PAT-000123/_history/3", "Encounter/APT-5001/_history/4"],
        )
        # The Bundle has no Coverage: the charge's payer share waits for one.
        self._post(sample_bytes("Organization-payer"))
        self._post(sample_bytes("Coverage"))
        self._run_all()
        self._run_all()
        self.assertEqual(set(self._messages().mapped("state")), {"done"})
        self.assertEqual(self._bound("integration.charge", "CHG-9001").state, "invoiced")

    def test_same_version_sent_again_is_a_duplicate_and_stored_once(self):
        first = self._post(sample_bytes("Patient"))
        again = self._post(sample_bytes("Patient"))
        self.assertEqual(first.status_code, 202)
        self.assertOutcome(again, 200, "duplicate")
        self.assertEqual(len(self._messages()), 1)
        self.assertEqual(self._messages().duplicate_count, 1)

    def test_put_restful_update_is_accepted(self):
        response = self._post(sample_bytes("Patient"), path="/Patient/PAT-000123")
        self.assertOutcome(response, 202, "queued")

    def test_signature_is_accepted_instead_of_the_bearer_token(self):
        response = self._post(sample_bytes("Patient"), auth="signature")
        self.assertOutcome(response, 202, "queued")

    # -- refused ---------------------------------------------------------------------
    def test_wrong_or_missing_credentials_are_401(self):
        body = sample_bytes("Patient")
        wrong_bearer = self._post(body, headers={"Authorization": "Bearer nope"}, auth=None)
        self.assertEqual(wrong_bearer.status_code, 401)
        self.assertEqual(self._post(body, auth=None).status_code, 401)
        wrong_signature = self._post(body, headers=signed_headers(body, OTHER_SECRET), auth=None)
        self.assertEqual(wrong_signature.status_code, 401)
        self.assertEqual(wrong_signature.json()["resourceType"], "OperationOutcome")
        self.assertFalse(self._messages())

    def test_resource_of_another_type_than_the_url_is_400(self):
        response = self._post(sample_bytes("Patient"), path="/Encounter/PAT-000123")
        self.assertOutcome(response, 400, "resource_type_mismatch", "Patient.resourceType")
        response = self._post(sample_bytes("Patient"), path="/Patient/OTHER")
        self.assertOutcome(response, 400, "resource_id_mismatch", "Patient.id")
        self.assertFalse(self._messages())

    def test_invalid_element_is_400_naming_it(self):
        charge = sample("ChargeItem")
        charge["quantity"] = {"value": "lots"}
        self.assertOutcome(self._post(charge), 400, "invalid_data", "ChargeItem.quantity.value")

    def test_bundle_of_1001_entries_is_400(self):
        entry = {"resource": {"resourceType": "Patient", "id": "p"}}
        bundle = {"resourceType": "Bundle", "type": "batch", "entry": [entry] * 1001}
        self.assertOutcome(self._post(bundle), 400, "too_many_entries", "Bundle.entry")
        self.assertFalse(self._messages())

    def test_deeply_nested_extensions_are_400(self):
        extension = {"url": "https://x.example/e", "valueString": "x"}
        for _level in range(100):
            extension = {"url": "https://x.example/e", "extension": [extension]}
        patient = sample("Patient")
        patient["extension"] = [extension]
        self.assertOutcome(self._post(patient), 400, "too_complex")

    def test_non_utf8_body_is_400(self):
        body = sample_bytes("Patient").replace(b"Jane", "Jané".encode("latin-1"))
        self.assertOutcome(self._post(body), 400, "malformed_json")

    def test_body_that_is_not_fhir_is_400(self):
        event = {"type": "patient.upserted", "data": {"id": "x"}}
        self.assertOutcome(self._post(event), 400, "not_fhir")

    def test_contained_resource_is_resolved_not_stored_on_its_own(self):
        charge = sample("ChargeItem")
        charge["contained"] = [
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [
                    {"system": "https://clinic.example/fhir/sid/mrn", "value": "PAT-000123"}
                ],
            }
        ]
        charge["subject"] = {"reference": "#p1"}
        self.assertOutcome(self._post(charge), 202, "queued")
        (message,) = self._messages()
        self.assertEqual(message.event_type, "charge.captured")
        self.assertEqual(json.loads(message.payload)["data"]["patient_id"], "PAT-000123")

    def test_resource_type_the_endpoint_does_not_take_is_422(self):
        self.endpoint.fhir_resource_types = "Patient"
        response = self._post(sample_bytes("Encounter"))
        self.assertOutcome(response, 422, "unsupported_resource_type", "Encounter")

    def test_wrong_content_type_is_415(self):
        response = self._post(sample_bytes("Patient"), headers={"Content-Type": "text/plain"})
        self.assertOutcome(response, 415, "unsupported_content_type")

    def test_body_over_the_endpoint_limit_is_413(self):
        self.endpoint.max_body_bytes = 100
        self.assertOutcome(self._post(sample_bytes("Patient")), 413, "payload_too_large")

    def test_transaction_with_one_bad_entry_stores_nothing(self):
        bundle = sample("Bundle-transaction")
        bundle["entry"][2]["resource"]["subject"] = {"reference": "Group/G1"}
        response = self._post(bundle)
        self.assertOutcome(
            response, 422, "unprocessable", "Bundle.entry[2].ChargeItem.subject.reference"
        )
        self.assertFalse(self._messages())

    def test_batch_takes_good_entries_and_answers_the_bad_one(self):
        bundle = sample("Bundle-transaction")
        bundle["type"] = "batch"
        bundle["entry"][2]["resource"]["subject"] = {"reference": "Group/G1"}
        response = self._post(bundle)
        self.assertEqual(response.status_code, 200, response.text)
        answer = response.json()
        self.assertEqual(answer["type"], "batch-response")
        self.assertEqual(
            [e["response"]["status"] for e in answer["entry"]],
            ["202 Accepted", "202 Accepted", "422"],
        )
        self.assertEqual(len(self._messages()), 2)

    def test_subscription_notification_bundle_is_taken(self):
        bundle = {
            "resourceType": "Bundle",
            "type": "subscription-notification",
            "entry": [
                {
                    "resource": {
                        "resourceType": "SubscriptionStatus",
                        "status": "active",
                        "type": "event-notification",
                        "subscription": {"reference": "Subscription/s1"},
                    }
                },
                {
                    "fullUrl": "https://clinic.example/fhir/Patient/PAT-000123",
                    "resource": sample("Patient"),
                },
            ],
        }
        response = self._post(bundle)
        self.assertEqual(response.status_code, 202, response.text)
        (message,) = self._messages()
        self.assertEqual(message.event_type, "patient.upserted")

    # -- processing ------------------------------------------------------------------
    def test_older_version_does_not_overwrite_a_newer_one(self):
        self._post(sample_bytes("Patient"))
        older = sample("Patient")
        older["meta"] = {"versionId": "2", "lastUpdated": "2026-11-20T08:00:00Z"}
        older["name"][0]["family"] = "Old"
        self._post(older)
        self._run_all()
        self.assertEqual(set(self._messages().mapped("state")), {"done"})
        self.assertEqual(self._bound("res.partner", "PAT-000123").name, "Jane Doe")

    def test_charge_before_its_patient_waits_then_goes_through(self):
        self._post(sample_bytes("ChargeItem"))
        self._run_all()
        (waiting,) = self._messages()
        self.assertEqual(waiting.state, "retrying")
        for name in ("Patient", "Organization-payer", "Coverage"):
            self._post(sample_bytes(name))
        self._run_all()
        self._run_all()
        self.assertEqual(waiting.state, "done", waiting.last_error)

    def test_entered_in_error_after_invoicing_opens_an_exception(self):
        for name in ("Patient", "Organization-payer", "Coverage", "ChargeItem"):
            self._post(sample_bytes(name))
        self._run_all()
        cancel = sample("ChargeItem")
        cancel["status"] = "entered-in-error"
        self.assertOutcome(self._post(cancel), 202, "queued")
        self._run_all()
        self.assertEqual(self._messages()[-1].state, "exception")

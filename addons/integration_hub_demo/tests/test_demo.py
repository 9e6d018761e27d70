import json
import pathlib

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase, signed_headers

DEMO_SECRET = "whsec_aW50ZWdyYXRpb24taHViLWRlbW8tc2VjcmV0LTIwMjY="
SAMPLES = pathlib.Path(__file__).resolve().parent.parent / "samples" / "events"
# The contract the samples come from, beside the repository in development and CI.
SHARED_SAMPLES = pathlib.Path(__file__).resolve().parents[4] / "shared" / "samples" / "events"


@tagged("post_install", "-at_install")
class TestDemo(IntegrationHubCase, HttpCase):
    def test_samples_are_envelopes_and_match_the_shared_contract(self):
        samples = sorted(SAMPLES.glob("*.json"))
        self.assertGreaterEqual(len(samples), 20)
        for path in samples:
            with self.subTest(sample=path.name):
                event = json.loads(path.read_text())
                self.assertEqual(f"{event['type']}.json", path.name)
                self.assertIsInstance(event["data"], dict)
                if SHARED_SAMPLES.is_dir():
                    self.assertEqual(event, json.loads((SHARED_SAMPLES / path.name).read_text()))

    def test_contact_sample_as_it_is_succeeds_on_the_demo_endpoint(self):
        body = (SAMPLES / "contact.upserted.json").read_bytes()
        response = self.url_open(
            "/integration/webhook/demo-contacts",
            data=body,
            headers=signed_headers(body, secret=DEMO_SECRET),
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        partner = self.env[message.result_model].browse(message.result_res_id)
        sample = json.loads(body)["data"]
        self.assertEqual(
            (partner.name, partner.email, partner.country_id.code, partner.is_company),
            (sample["name"], sample["email"], sample["country_code"], True),
        )

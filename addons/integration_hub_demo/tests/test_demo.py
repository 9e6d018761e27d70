import json
import os
import pathlib

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase, signed_headers

DEMO_SECRET = "whsec_aW50ZWdyYXRpb24taHViLWRlbW8tc2VjcmV0LTIwMjY="
SAMPLES = pathlib.Path(__file__).resolve().parent.parent / "samples" / "events"


def send_to_demo(case, token, body):
    """POST ``body`` signed with the demo secret to the demo endpoint ``token``, expect
    202, and run the message's job: the message."""
    response = case.url_open(
        f"/integration/webhook/{token}",
        data=body,
        headers=signed_headers(body, secret=DEMO_SECRET),
    )
    case.assertEqual(response.status_code, 202, response.text)
    message = case.env["integration.message"].browse(response.json()["id"])
    case._perform_job(message)
    return message


# The contract the samples come from: the shared folder beside the repository in
# development and CI, or the folder INTEGRATION_HUB_SHARED names (e.g. from a worktree).
SHARED = pathlib.Path(
    os.environ.get("INTEGRATION_HUB_SHARED")
    or pathlib.Path(__file__).resolve().parents[4] / "shared"
)
SHARED_SAMPLES = SHARED / "samples" / "events"


@tagged("post_install", "-at_install")
class TestDemo(IntegrationHubCase, HttpCase):
    def test_samples_are_envelopes_and_match_the_shared_contract(self):
        self.assertTrue(
            SHARED_SAMPLES.is_dir(),
            f"The shared contract folder {SHARED_SAMPLES} is missing: the demo samples "
            "cannot be checked against it. Put the shared folder beside the repository "
            "or set INTEGRATION_HUB_SHARED to its path.",
        )
        samples = sorted(SAMPLES.glob("*.json"))
        self.assertGreaterEqual(len(samples), 20)
        for path in samples:
            with self.subTest(sample=path.name):
                event = json.loads(path.read_text())
                self.assertEqual(f"{event['type']}.json", path.name)
                self.assertIsInstance(event["data"], dict)
                shared = SHARED_SAMPLES / path.name
                self.assertTrue(shared.is_file(), f"{path.name} is not in the shared contract")
                self.assertEqual(event, json.loads(shared.read_text()))

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

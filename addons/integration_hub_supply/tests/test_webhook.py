import json

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import signed_headers

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestSupplyWebhook(SupplyCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()

    def _post(self, event):
        body = json.dumps(event).encode()
        return self.url_open(
            f"/integration/webhook/{self.supply_endpoint.token}",
            data=body,
            headers=signed_headers(body),
        )

    def test_every_supply_sample_is_accepted_as_it_is(self):
        for event_type in self.supply_types.mapped("code"):
            with self.subTest(event_type=event_type):
                response = self._post(sample(event_type))
                self.assertEqual(response.status_code, 202, response.text)
                message = self.env["integration.message"].browse(response.json()["id"])
                self.assertEqual(message.event_type_id.code, event_type)
                self.assertEqual(message.state, "queued")

    def test_data_against_the_schema_is_refused_with_400(self):
        for event_type, data in (
            ("supply.consumed", {"quantity": 4}),
            ("supplier.acknowledged", {"status": "maybe"}),
            ("goods.received", {"lines": []}),
        ):
            with self.subTest(event_type=event_type):
                response = self._post(sample(event_type, **data))
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(response.json()["code"], "invalid_data")

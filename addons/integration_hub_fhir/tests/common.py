import json
import uuid

from odoo import Command

from odoo.addons.integration_hub import payload
from odoo.addons.integration_hub_billing.tests.common import BillingCase

from ..mapping import BundleIndex, MappingConfig, map_resource
from .samples import CONFIG_VALUES, sample

FHIR_TYPES = ("coverage.upserted", "charge.cancelled")


class FhirCase(BillingCase):
    """The billing factories, an endpoint configured for the FHIR samples, and
    canonical events made from FHIR resources by the mapping."""

    @classmethod
    def _setup_fhir(cls):
        cls._setup_billing()
        cls.fhir_types = cls.env["integration.event.type"].search(
            [("code", "in", FHIR_TYPES), ("direction", "=", "in")]
        )
        cls.billing_types |= cls.fhir_types
        cls.endpoint.write(
            {
                "event_type_ids": [Command.set(cls.billing_types.ids)],
                **{f"fhir_{key}": value for key, value in CONFIG_VALUES.items()},
            }
        )

    def _fhir_event(self, resource, bundle=None):
        event = map_resource(
            resource, MappingConfig(**CONFIG_VALUES), BundleIndex(bundle) if bundle else None
        )
        return {"type": event.event_type, "timestamp": "2026-11-21T09:00:00Z", "data": event.data}

    def _process_fhir(self, name_or_resource, expect="done"):
        resource = (
            sample(name_or_resource) if isinstance(name_or_resource, str) else name_or_resource
        )
        return self._process(self._fhir_event(resource), expect=expect)

    def _send(self, event, endpoint=None, source_format="fhir_r4"):
        endpoint = endpoint or self.endpoint
        body = json.dumps(event)
        message = (
            self.env["integration.message"]
            .with_company(endpoint.company_id)
            .create(
                {
                    "backend_id": endpoint.backend_id.id,
                    "endpoint_id": endpoint.id,
                    "event_type": event["type"],
                    "event_type_id": self.billing_types.filtered(
                        lambda t: t.code == event["type"]
                    ).id,
                    "sender_message_id": f"msg_{uuid.uuid4().hex}",
                    "payload": body,
                    "payload_sha256": payload.sha256(body.encode()),
                    "source_format": source_format,
                }
            )
        )
        message._enqueue()
        return message

import copy
import json
import pathlib

from odoo import Command

from odoo.addons.integration_hub.tests.common import IntegrationHubCase, signed_headers

SAMPLES = (
    pathlib.Path(__file__).resolve().parents[2] / "integration_hub_demo" / "samples" / "events"
)

# Event types of this addon, in the order an HR system sends a first snapshot.
WORKFORCE_TYPES = (
    "cost_center.upserted",
    "department.upserted",
    "employee.upserted",
    "employee.terminated",
    "shift.worked",
)


def sample(event_type, **data):
    """The shared sample of ``event_type`` with ``data`` keys replaced."""
    event = copy.deepcopy(json.loads((SAMPLES / f"{event_type}.json").read_text()))
    event["data"].update(data)
    return event


def manager_event(**data):
    """employee.upserted of EMP-3, the manager the samples name."""
    return sample(
        "employee.upserted",
        **dict(
            {
                "id": "EMP-3",
                "name": "Dana Whitfield",
                "work_email": "dana.whitfield@clinic.example",
                "job_title": "Head of Surgery",
                "manager_id": None,
            },
            **data,
        ),
    )


class WorkforceCase(IntegrationHubCase):
    """An HR backend with an endpoint for the five workforce event types; events are
    sent through the real webhook controller (the test class is an HttpCase)."""

    @classmethod
    def _setup_workforce(cls, company=None):
        cls._setup_hub()
        cls.company = cls.env.company
        cls.workforce_types = cls.env["integration.event.type"].search(
            [("code", "in", WORKFORCE_TYPES), ("direction", "=", "in")]
        )
        cls.hr_backend, cls.hr_endpoint = cls._create_hr_backend()

    @classmethod
    def _create_hr_backend(cls, company=None, name="Test HR"):
        values = {"name": name, "system_type": "hr"}
        if company:
            values["company_id"] = company.id
        backend = cls._create_backend(**values)
        endpoint = cls._create_endpoint(
            backend,
            name=f"{name} events",
            event_type_ids=[Command.set(cls.workforce_types.ids)],
        )
        return backend, endpoint

    def _post(self, event, endpoint=None, msg_id=None):
        body = json.dumps(event).encode()
        return self.url_open(
            f"/integration/webhook/{(endpoint or self.hr_endpoint).token}",
            data=body,
            headers=signed_headers(body, msg_id=msg_id),
        )

    def _send(self, event, endpoint=None):
        """Post ``event`` as a signed webhook and run its job; the processed message."""
        response = self._post(event, endpoint)
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        return message

    def _done(self, event, endpoint=None):
        message = self._send(event, endpoint)
        self.assertEqual(message.state, "done", message.last_error)
        return self.env[message.result_model].browse(message.result_res_id)

    def _assert_retried_at_once(self, message):
        """The waiting ``message`` is due now: its pending job lost its delay."""
        message.invalidate_recordset()
        self.assertEqual(message.state, "retrying")
        self.assertEqual(message.job_id.state, "pending")
        self.assertFalse(message.job_id.eta)

    def _bound(self, model, external_id, backend=None):
        return (
            self.env["integration.binding"]
            .with_context(active_test=False)
            ._to_internal(backend or self.hr_backend, model, external_id)
        )

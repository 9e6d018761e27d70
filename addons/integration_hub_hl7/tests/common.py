from odoo.tools.misc import file_path

SAMPLE_NAMES = (
    "ADT_A04.hl7",
    "SIU_S12.hl7",
    "SIU_S14_completed.hl7",
    "SIU_S15_cancelled.hl7",
    "DFT_P03.hl7",
)


def sample(name):
    """The bytes of a sample of integration_hub_demo/samples/hl7 (``\\r`` endings kept)."""
    with open(file_path(f"integration_hub_demo/samples/hl7/{name}"), "rb") as handle:
        return handle.read()


def message(*segments, charset=""):
    """An HL7 v2 message (bytes) from segments given without MSH, e.g. "PID|1||P-1"."""
    msh = "MSH|^~\\&|SCHED|CLINIC-N|ODOO|HUB|20261121085800||ADT^A04^ADT_A01|CTRL-1|P|2.5.1" + (
        "||||||" + charset if charset else ""
    )
    return ("\r".join([msh, *segments]) + "\r").encode(
        "iso-8859-1" if "8859" in charset else "utf-8"
    )


def replace_msh(raw, old, new):
    return raw.replace(old.encode(), new.encode(), 1)


class HL7CaseMixin:
    """An HL7 endpoint on a real-time billing backend (mix into BillingCase + an Odoo case)."""

    @classmethod
    def _setup_hl7(cls):
        cls._setup_billing()
        # Senders belong to one endpoint: the demo's (when installed) gives them up.
        cls.env["integration.endpoint"].search(
            [("hl7_sending_applications", "!=", False)]
        ).hl7_sending_applications = False
        cls.endpoint.write(
            {
                "name": "Test HL7",
                "hl7_sending_applications": "SCHED, BILLING",
                "hl7_sending_facilities": "CLINIC-N",
                "event_type_ids": [
                    (4, cls.env.ref("integration_hub_hl7.integration_event_type_patient_merged").id)
                ],
            }
        )

    def _messages(self, endpoint=None):
        return self.env["integration.message"].search(
            [("endpoint_id", "=", (endpoint or self.endpoint).id)], order="id"
        )

from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerAppointment(models.AbstractModel):
    """appointment.scheduled / rescheduled / cancelled / no_show / completed."""

    _name = "integration.handler.appointment"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: appointment events"

    def _handle(self, message, data):
        state = message.event_type.split(".", 1)[1]
        external_id = str(data["id"])
        updated_at = self._parse_datetime(data.get("updated_at"), "updated_at")
        current = self._bound(message, "integration.appointment", external_id)
        binder = self.env["integration.binding"]
        if current and binder._is_stale(
            message.backend_id, "integration.appointment", external_id, updated_at
        ):
            return self._attach_charges(current)
        if (
            current.state == "completed"
            and state in ("cancelled", "no_show")
            and current.charge_ids.filtered(lambda c: c.state != "rejected")
        ):
            raise IntegrationBusinessError(
                self.env._(
                    "Appointment %(id)s was completed and charged; it cannot become "
                    "%(state)s. Reject or credit its charges, then retry, or ignore this "
                    "event.",
                    id=external_id,
                    state=state,
                ),
                kind="conflict",
                record=current,
            )
        values = {
            "name": external_id,
            "backend_id": message.backend_id.id,
            "patient_id": self._bound_partner(message, data["patient_id"], "patient").id,
            "provider_ref": data.get("provider_id"),
            "location_code": data.get("location_code"),
            "service_code": data.get("service_code"),
            "start_time": self._parse_datetime(data.get("start"), "start"),
            "end_time": self._parse_datetime(data.get("end"), "end"),
            "state": state,
            "reason": data.get("reason"),
        }
        if data.get("payer_id"):
            values["payer_id"] = self._bound_partner(message, data["payer_id"], "payer").id
        return self._attach_charges(
            self._upsert_bound(message, "integration.appointment", external_id, values, updated_at)
        )

    def _attach_charges(self, appointment):
        """Link to ``appointment`` the charges of its encounter that arrived before it.

        A charge names its encounter, and links itself when the appointment is already
        there; events of one encounter are processed one at a time (its ordering key),
        so whichever comes second finds the other.
        """
        self.env["integration.charge"].search(
            [
                ("backend_id", "=", appointment.backend_id.id),
                ("encounter_ref", "=", appointment.name),
                ("appointment_id", "=", False),
            ]
        ).write({"appointment_id": appointment.id})
        return appointment

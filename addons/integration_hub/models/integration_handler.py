from datetime import UTC, datetime

from odoo import models

from ..exceptions import IntegrationBusinessError


class IntegrationHandler(models.AbstractModel):
    """Base of the event handlers that flow addons register on event types.

    A handler turns one canonical event's ``data`` into Odoo records and returns the
    record it produced. It must be idempotent: a replayed or duplicated message is
    processed again and must change nothing more.
    """

    _name = "integration.handler"
    _description = "Integration Event Handler"

    def _handle(self, message, data):
        raise NotImplementedError(f"{self._name} does not implement _handle")

    def _binding(self, message, model, external_id):
        return self.env["integration.binding"].search(
            [
                ("backend_id", "=", message.backend_id.id),
                ("res_model", "=", model),
                ("external_id", "=", external_id),
            ],
            limit=1,
        )

    def _upsert_bound(self, message, model, external_id, values, updated_at=None):
        """Create or update the record bound to ``external_id``.

        An update older than the last one applied (``updated_at``) is skipped, so
        events arriving out of order never overwrite newer data.
        """
        binding = self._binding(message, model, external_id)
        record = binding._record() if binding else self.env[model]
        if (
            binding
            and updated_at
            and binding.external_updated_at
            and updated_at < binding.external_updated_at
        ):
            return record
        if record:
            record.write(values)
        else:
            record = self.env[model].create(values)
        binding_values = {"last_message_id": message.id, "res_id": record.id}
        if updated_at:
            binding_values["external_updated_at"] = updated_at
        if binding:
            binding.write(binding_values)
        else:
            self.env["integration.binding"].create(
                dict(
                    binding_values,
                    backend_id=message.backend_id.id,
                    res_model=model,
                    external_id=external_id,
                )
            )
        return record

    def _map_code(self, message, kind, code):
        """The record ``code`` of ``kind`` is mapped to for the message's backend."""
        record = self.env["integration.code.map"]._lookup(message.backend_id, kind, code)
        if not record:
            raise IntegrationBusinessError(
                self.env._(
                    "The %(kind)s code '%(code)s' of %(backend)s is not mapped to an Odoo "
                    "record. Add it under Integrations > Configuration > Code maps, then "
                    "retry.",
                    kind=kind,
                    code=code,
                    backend=message.backend_id.name,
                ),
                kind="unmapped_code",
            )
        return record

    def _country(self, code):
        """The country of an ISO code; an unknown code is a business error."""
        country = self.env["res.country"].search([("code", "=ilike", code)], limit=1)
        if not country:
            raise IntegrationBusinessError(
                self.env._("Unknown country code '%(code)s'.", code=code),
                kind="unknown_record",
            )
        return country

    def _parse_datetime(self, value, field_name):
        """A naive UTC datetime from an ISO 8601 string, or None."""
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            # The field's path, never its value: explanations, attempts and job results
            # must not quote personal data (a date of birth, a name sent by mistake).
            raise IntegrationBusinessError(
                self.env._(
                    "%(field)s is not an ISO 8601 date and time (for example "
                    "2026-11-21T09:00:00Z).",
                    field=field_name,
                )
            ) from exc
        if parsed.tzinfo:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed

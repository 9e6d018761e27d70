from datetime import UTC, datetime

from odoo import models

from ..decimals import DecimalError, parse_decimal
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

    def _review_usual_value(self, message, data, path):
        """The usual value of the number at ``path`` of ``data`` (an item's usual
        consumption, a service's list price), for review rules relative to it; None
        when this flow does not know one."""
        return None

    def _bound(self, message, model, external_id, wait=False):
        """The record of ``model`` bound to ``external_id`` at the message's backend
        (empty when unbound; ``wait=True`` waits for it, see ``WaitingForRecordError``)."""
        return self.env["integration.binding"]._to_internal(
            message.backend_id, model, external_id, wait=wait
        )

    def _bind(self, message, record, external_id, updated_at=None):
        """Bind a record this message produced to its external id."""
        return self.env["integration.binding"]._bind(
            message.backend_id, external_id, record, updated_at=updated_at, message=message
        )

    def _upsert_bound(self, message, model, external_id, values, updated_at=None, *, binding=None):
        """Create or update the record bound to ``external_id``.

        An update older than the last one applied (``updated_at``) is skipped, so
        events arriving out of order never overwrite newer data. The binding is looked
        up once (or given: what ``_find`` returned, empty for none) and serves the
        staleness check, the record and the bind.
        """
        binder = self.env["integration.binding"]
        backend = message.backend_id
        if binding is None:
            binding = binder._find(backend, model, external_id)
        record = binding._record() if binding else self.env[model]
        if record and binding._is_older(updated_at):
            return record
        if record:
            record.write(values)
        else:
            record = self.env[model].create(values)
        binder._bind(
            backend, external_id, record, updated_at=updated_at, message=message, binding=binding
        )
        return record

    def _map_code(self, message, kind, code):
        """The record ``code`` of ``kind`` is mapped to for the message's backend;
        ``UnmappedCodeError`` (an exception offering *Map code and retry*) otherwise."""
        return self.env["integration.code.map"]._resolve(message.backend_id, kind, code)

    def _decimal(self, value, path, *, allow_zero=True, **limits):
        """``value`` (at field ``path``) as a ``Decimal``, see ``decimals.parse_decimal``;
        anything else is a business error naming the field."""
        try:
            number = parse_decimal(value, path, **limits)
        except DecimalError as exc:
            raise IntegrationBusinessError(
                self.env._("%(path)s: %(reason)s", path=exc.path, reason=exc.reason)
            ) from exc
        if not allow_zero and not number:
            raise IntegrationBusinessError(
                self.env._(
                    "%(path)s: '%(value)s' must be greater than zero", path=path, value=value
                )
            )
        return number

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

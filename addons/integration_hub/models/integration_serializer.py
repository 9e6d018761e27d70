import json

from odoo import fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_repr


class IntegrationSerializer(models.AbstractModel):
    """Builds the 'data' of outbound events from an event type's field map.

    Flow addons with richer payloads (invoice lines, say) inherit it, override
    ``_serialize`` and name their model on the event type.
    """

    _name = "integration.serializer"
    _description = "Integration Event Serializer"

    def _field_map(self, event_type):
        try:
            mapping = json.loads(event_type.field_map or "{}")
        except ValueError as exc:
            raise ValidationError(
                self.env._(
                    "Fields of data of %(code)s: not JSON (%(error)s).",
                    code=event_type.code,
                    error=exc,
                )
            ) from exc
        if not isinstance(mapping, dict) or not all(
            isinstance(key, str) and isinstance(path, str) and path for key, path in mapping.items()
        ):
            raise ValidationError(
                self.env._(
                    "Fields of data of %(code)s must be a JSON object of key: field path.",
                    code=event_type.code,
                )
            )
        return mapping

    def _check_event_type(self, event_type):
        if event_type.serializer_model:
            serializer = self.env.get(event_type.serializer_model)
            if serializer is None or not hasattr(serializer, "_serialize"):
                raise ValidationError(
                    self.env._(
                        "%(model)s is not a serializer model.", model=event_type.serializer_model
                    )
                )
            return
        model = self.env[event_type.model_id.model]
        for key, path in self._field_map(event_type).items():
            current = model
            for name in path.split("."):
                field = current._fields.get(name)
                if field is None:
                    raise ValidationError(
                        self.env._(
                            "Fields of data of %(code)s: %(model)s has no field %(path)s "
                            "(for '%(key)s').",
                            code=event_type.code,
                            model=model._name,
                            path=path,
                            key=key,
                        )
                    )
                current = self.env[field.comodel_name] if field.relational else current

    def _serialize(self, event_type, record, subscription=None):
        data = {"id": str(record.id)}
        for key, path in self._field_map(event_type).items():
            *relations, name = path.split(".")
            target = record
            for relation in relations:
                target = target[relation][:1]
            data[key] = self._value(target, name) if target else None
        return data

    def _external_id(self, backend, record):
        """The id ``backend`` knows ``record`` by (its binding), or None."""
        return self.env["integration.binding"]._to_external(backend, record) or None

    def _external_code(self, backend, kind, record):
        """The code of ``kind`` that ``backend`` maps to ``record`` (code maps), or None."""
        mapping = self.env["integration.code.map"].search(
            [
                ("backend_id", "=", backend.id),
                ("kind", "=", kind),
                ("record_ref", "=", f"{record._name},{record.id}"),
            ],
            limit=1,
        )
        return mapping.external_code or None

    def _value(self, record, name):
        """A JSON value of one field: amounts as decimal strings, times in ISO 8601 UTC."""
        field = record._fields[name]
        value = record[name]
        if field.type == "boolean":
            return bool(value)
        if field.type in ("monetary", "float"):
            return float_repr(value, self._decimals(record, field))
        if field.type == "integer" or not value:
            return value if field.type == "integer" else None
        converters = {
            "datetime": lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "date": fields.Date.to_string,
            "many2one": lambda v: v.display_name,
            "one2many": lambda v: v.mapped("display_name"),
            "many2many": lambda v: v.mapped("display_name"),
        }
        return converters.get(field.type, lambda v: v)(value)

    def _decimals(self, record, field):
        if field.type == "monetary":
            currency = record[field.get_currency_field(record)] or record.env.company.currency_id
            return currency.decimal_places
        digits = field.get_digits(record.env)
        return digits[1] if digits else 6

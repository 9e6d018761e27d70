import json

import jsonschema

from odoo import api, fields, models
from odoo.exceptions import ValidationError


def validation_errors(validator, data):
    """Readable messages of what in ``data`` breaks the schema of ``validator``."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or 'data'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]


class IntegrationEventType(models.Model):
    """A canonical event type: the registry flow addons extend with data records."""

    _name = "integration.event.type"
    _description = "Integration Event Type"
    _inherit = ["integration.webhook.config.mixin"]
    _order = "code"
    _rec_name = "code"

    code = fields.Char(required=True, help="For example appointment.completed.")
    name = fields.Char(required=True, translate=True)
    domain_id = fields.Many2one("integration.domain", string="Business domain")
    version = fields.Integer(default=1, required=True)
    description = fields.Text(translate=True)
    schema_json = fields.Text(
        string="Schema of data",
        required=True,
        default='{"type": "object"}',
        help="JSON Schema that the event's 'data' object must satisfy.",
    )
    handler_model = fields.Char(
        required=True,
        help="Model whose _handle(message, data) processes the event; it inherits "
        "integration.handler.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [("code_uniq", "unique(code)", "This event type already exists.")]

    @api.constrains("schema_json")
    def _check_schema_json(self):
        for event_type in self:
            try:
                jsonschema.Draft202012Validator.check_schema(json.loads(event_type.schema_json))
            except (ValueError, jsonschema.SchemaError) as exc:
                raise ValidationError(
                    self.env._(
                        "Schema of %(code)s is not a JSON Schema: %(error)s",
                        code=event_type.code,
                        error=exc,
                    )
                ) from exc

    @api.constrains("handler_model")
    def _check_handler_model(self):
        for event_type in self:
            handler = self.env.get(event_type.handler_model)
            if handler is None or not hasattr(handler, "_handle"):
                raise ValidationError(
                    self.env._(
                        "%(model)s is not a handler model (it must inherit integration.handler).",
                        model=event_type.handler_model,
                    )
                )

    def _validator(self):
        self.ensure_one()
        return jsonschema.Draft202012Validator(json.loads(self.schema_json))

    def _handler(self):
        self.ensure_one()
        return self.env[self.handler_model]

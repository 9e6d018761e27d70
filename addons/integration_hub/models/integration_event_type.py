import json

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import headers as headers_lib
from .. import ordering
from ..decimals import SCHEMA_DEFINITIONS

# The longest explanation of one schema error given back to a sender.
MAX_ERROR_CHARS = 300

# The definitions every event schema may refer to by URN ({"$ref": "urn:…"}).
SHARED_DEFINITIONS = Registry().with_resources(
    (urn, DRAFT202012.create_resource(schema)) for urn, schema in SCHEMA_DEFINITIONS.items()
)


def validation_errors(validator, data):
    """Readable messages of what in ``data`` breaks the schema of ``validator``.

    A message quotes at most a short excerpt of the refused value, never all of it (a
    megabyte string must not come back in the answer, nor a person's data in full).
    """
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or 'data'}: {_short_message(error)}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]


def _short_message(error):
    message = error.message
    quoted = repr(error.instance)
    if len(quoted) > headers_lib.EXCERPT_CHARS and quoted in message:
        shown = headers_lib.excerpt(error.instance) if isinstance(error.instance, str) else None
        message = message.replace(quoted, shown or f"the {type(error.instance).__name__} given")
    return message[:MAX_ERROR_CHARS]


class IntegrationEventType(models.Model):
    """A canonical event type: the registry flow addons extend with data records."""

    _name = "integration.event.type"
    _description = "Integration Event Type"
    _inherit = ["integration.webhook.config.mixin"]
    _order = "code"
    _rec_name = "code"

    code = fields.Char(required=True, help="For example appointment.completed.")
    direction = fields.Selection(
        [("in", "Inbound"), ("out", "Outbound")],
        required=True,
        default="in",
        help="Inbound events are handled by Odoo; outbound events tell subscribers what "
        "happened in Odoo.",
    )
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
        help="Inbound: model whose _handle(message, data) processes the event; it inherits "
        "integration.handler.",
    )
    ordering_key_template = fields.Char(
        string="Ordering key",
        help="Inbound: the record an event is about, as fixed text and paths of fields of "
        "data in braces, for example encounter:{encounter_id}. Events of one backend with "
        "the same key are processed one at a time, in arrival order; other keys run in "
        "parallel. Event types about the same record use the same fixed text. Empty, or a "
        "field missing from an event: not ordered. Applies to events received from now on.",
    )
    model_id = fields.Many2one(
        "ir.model",
        string="Source model",
        ondelete="cascade",
        help="Outbound: the model whose records the event tells about.",
    )
    res_model = fields.Char(related="model_id.model", string="Source model name")
    field_map = fields.Text(
        string="Fields of data",
        help="Outbound: a JSON object naming each key of 'data' and the field path it is "
        'read from, for example {"name": "name", "country_code": "country_id.code"}.',
    )
    serializer_model = fields.Char(
        help="Outbound: model whose _serialize(event_type, record) builds 'data' instead "
        "of the field map (it inherits integration.serializer).",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "code_uniq",
            "unique(code, direction)",
            "This event type already exists in this direction.",
        )
    ]

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

    @api.constrains("handler_model", "direction")
    def _check_handler_model(self):
        for event_type in self.filtered(lambda t: t.direction == "in"):
            handler = self.env.get(event_type.handler_model or "")
            if handler is None or not hasattr(handler, "_handle"):
                raise ValidationError(
                    self.env._(
                        "%(model)s is not a handler model (it must inherit integration.handler).",
                        model=event_type.handler_model,
                    )
                )

    @api.constrains("ordering_key_template")
    def _check_ordering_key_template(self):
        for event_type in self.filtered("ordering_key_template"):
            try:
                ordering.parse_template(event_type.ordering_key_template)
            except ordering.TemplateError as exc:
                raise ValidationError(
                    self.env._(
                        "Ordering key of %(code)s: %(error)s",
                        code=event_type.code,
                        error=exc,
                    )
                ) from exc

    def _ordering_key(self, data):
        """The ordering key of an event of this type with ``data`` (None: not ordered)."""
        return ordering.ordering_key(self.ordering_key_template, data) if self else None

    @api.constrains("direction", "model_id", "field_map", "serializer_model")
    def _check_serializer(self):
        for event_type in self.filtered(lambda t: t.direction == "out"):
            if not event_type.model_id:
                raise ValidationError(
                    self.env._(
                        "The outbound event type %(code)s needs a source model.",
                        code=event_type.code,
                    )
                )
            self.env["integration.serializer"]._check_event_type(event_type)

    def _serialize(self, record, subscription=None):
        """The 'data' of this outbound event for ``record`` (to ``subscription``)."""
        self.ensure_one()
        serializer = self.env[self.serializer_model or "integration.serializer"]
        return serializer._serialize(self, record, subscription)

    def _validator(self):
        self.ensure_one()
        return jsonschema.Draft202012Validator(
            json.loads(self.schema_json), registry=SHARED_DEFINITIONS
        )

    def _handler(self):
        self.ensure_one()
        return self.env[self.handler_model]

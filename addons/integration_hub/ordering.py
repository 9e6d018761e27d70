"""Ordering keys of inbound events, with no ORM.

An event type may declare which record its events are about with a template: fixed
text and, in braces, paths of fields of the event's ``data``, for example
``encounter:{encounter_id}`` or ``stock:{item_code}@{location_code}``. Events of one
backend whose templates give the same key are processed one at a time, in arrival
order (see ``integration.message._wait_for_turn``). Event types about the same record
use the same fixed text (``appointment.completed`` ``encounter:{id}`` and
``charge.captured`` ``encounter:{encounter_id}``), so their keys meet.
"""

import string

# Keys are stored in a Char column and compared as they are: a longer one is cut.
MAX_KEY_CHARS = 255


class TemplateError(ValueError):
    """A template that cannot give a key."""


def parse_template(template):
    """The template as ``[(fixed text, field path or None)]``.

    A field path is a tuple of keys and list indexes (``lines/0/code`` is
    ``("lines", 0, "code")``). Raises ``TemplateError`` for unbalanced braces, an empty
    field, a format spec or a conversion, or a template without any field (a fixed key
    would run every event of the type one at a time).
    """
    parts = []
    try:
        parsed = list(string.Formatter().parse(template or ""))
    except ValueError as error:
        raise TemplateError(f"'{template}': {error}") from error
    for text, field, spec, conversion in parsed:
        if field is None:
            parts.append((text, None))
            continue
        if spec or conversion:
            raise TemplateError(f"'{template}': write a field as {{path}}, without ! or :")
        path = tuple(
            int(step) if step.isdigit() else step for step in field.strip().split("/") if step
        )
        if not path:
            raise TemplateError(f"'{template}': an empty field {{}}")
        parts.append((text, path))
    if not any(path for _text, path in parts):
        raise TemplateError(f"'{template}' names no field of data, such as {{id}}")
    return parts


def _value_at(data, path):
    for step in path:
        if isinstance(step, int) and isinstance(data, list) and step < len(data):
            data = data[step]
        elif isinstance(data, dict) and step in data:
            data = data[step]
        else:
            return None
    return data


def ordering_key(template, data):
    """The key ``template`` gives for an event's ``data``, or None.

    None (the event is not ordered) without a template, or when a field it names is
    missing, empty or not a string or a whole number: a charge without an encounter is
    about no encounter.
    """
    if not template:
        return None
    key = []
    for text, path in parse_template(template):
        key.append(text)
        if path is None:
            continue
        value = _value_at(data, path)
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            return None
        key.append(str(value))
    return "".join(key)[:MAX_KEY_CHARS]

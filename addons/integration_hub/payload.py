"""Parsing and checking of inbound payloads, with no ORM."""

import hashlib
import json
import re

MAX_DEPTH = 32
MAX_ARRAY_ITEMS = 10_000


class PayloadError(ValueError):
    """The body is not an acceptable event envelope."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


# What RFC 8259 and PostgreSQL refuse in a string: lone UTF-16 surrogates (not
# characters; they cannot even be encoded to UTF-8) and NUL.
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")


def _refuse_constant(name):
    raise PayloadError(
        "malformed_json", f"the body holds {name}, which JSON (RFC 8259) does not allow"
    )


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise PayloadError("malformed_json", "a number of the body overflows a double")
    return value


def _double_sized_int(text):
    value = int(text)
    if len(text) > 300:  # cheap first: only long literals can overflow a double
        try:
            float(value)
        except OverflowError as exc:
            raise PayloadError("malformed_json", "a number of the body overflows a double") from exc
    return value


def _check_string(text):
    match = _UNSTORABLE_CHAR.search(text)
    if match:
        what = "NUL" if match.group() == "\x00" else "a lone surrogate"
        raise PayloadError("malformed_json", f"a string of the body holds {what}")


def sha256(body):
    return hashlib.sha256(body).hexdigest()


def _check_shape(value, max_depth, max_items):
    # Iterative walk: a recursive one would itself be the stack overflow we guard against.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_string(node)
            continue
        if isinstance(node, dict):
            for key in node:
                _check_string(key)
            children = node.values()
        elif isinstance(node, list):
            if len(node) > max_items:
                raise PayloadError(
                    "payload_too_complex", f"an array holds more than {max_items} items"
                )
            children = node
        else:
            continue
        if depth > max_depth:
            raise PayloadError(
                "payload_too_complex", f"JSON is nested deeper than {max_depth} levels"
            )
        stack.extend((child, depth + 1) for child in children)


def loads(text, max_depth=MAX_DEPTH, max_items=MAX_ARRAY_ITEMS):
    """The value of a JSON text, refusing what RFC 8259 or PostgreSQL does not allow
    (NaN, Infinity, numbers overflowing a double, lone surrogates, NUL) and what is too
    deep or too long, with a ``PayloadError``."""
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_double_sized_int,
        )
    except PayloadError:
        raise
    except RecursionError as exc:
        raise PayloadError(
            "payload_too_complex", f"JSON is nested deeper than {max_depth} levels"
        ) from exc
    except ValueError as exc:
        raise PayloadError("malformed_json", f"the body is not valid JSON: {exc}") from exc
    _check_shape(value, max_depth, max_items)
    return value


def parse_envelope(body, max_depth=MAX_DEPTH, max_items=MAX_ARRAY_ITEMS):
    """Return the ``{"type", "timestamp", "data"}`` envelope of a JSON body."""
    try:
        # Systems exchange JSON in UTF-8 (RFC 8259): other encodings are refused.
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("malformed_json", f"the body is not valid JSON: {exc}") from exc
    envelope = loads(text, max_depth, max_items)
    if not isinstance(envelope, dict):
        raise PayloadError("invalid_envelope", "the body must be a JSON object")
    if not isinstance(envelope.get("type"), str) or not envelope["type"]:
        raise PayloadError("invalid_envelope", "the envelope has no 'type' string")
    if not isinstance(envelope.get("data"), dict):
        raise PayloadError("invalid_envelope", "the envelope has no 'data' object")
    if "timestamp" in envelope and not isinstance(envelope["timestamp"], str):
        raise PayloadError("invalid_envelope", "the envelope's 'timestamp' must be a string")
    return envelope

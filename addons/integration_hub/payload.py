"""Parsing and checking of inbound payloads, with no ORM."""

import hashlib
import json

MAX_DEPTH = 32
MAX_ARRAY_ITEMS = 10_000


class PayloadError(ValueError):
    """The body is not an acceptable event envelope."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def sha256(body):
    return hashlib.sha256(body).hexdigest()


def _check_shape(value, max_depth, max_items):
    # Iterative walk: a recursive one would itself be the stack overflow we guard against.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
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


def parse_envelope(body, max_depth=MAX_DEPTH, max_items=MAX_ARRAY_ITEMS):
    """Return the ``{"type", "timestamp", "data"}`` envelope of a JSON body."""
    try:
        # Systems exchange JSON in UTF-8 (RFC 8259): other encodings are refused.
        envelope = json.loads(body.decode("utf-8"))
    except RecursionError as exc:
        raise PayloadError(
            "payload_too_complex", f"JSON is nested deeper than {max_depth} levels"
        ) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("malformed_json", f"the body is not valid JSON: {exc}") from exc
    _check_shape(envelope, max_depth, max_items)
    if not isinstance(envelope, dict):
        raise PayloadError("invalid_envelope", "the body must be a JSON object")
    if not isinstance(envelope.get("type"), str) or not envelope["type"]:
        raise PayloadError("invalid_envelope", "the envelope has no 'type' string")
    if not isinstance(envelope.get("data"), dict):
        raise PayloadError("invalid_envelope", "the envelope has no 'data' object")
    if "timestamp" in envelope and not isinstance(envelope["timestamp"], str):
        raise PayloadError("invalid_envelope", "the envelope's 'timestamp' must be a string")
    return envelope

"""HTTP headers as the hub stores them, with no ORM.

Only headers known to be harmless are ever stored as they were sent. A credential can
travel under any name (``X-Api-Secret``, ``X-Custom-Auth``, ``Authorization``…), so
stored headers are an allow-list, never a deny-list of names that look secret.
"""

import json

REDACTED = "[redacted]"

# Harmless headers, stored with their value (lower case).
STORABLE = frozenset(
    {
        "accept",
        "content-length",
        "content-type",
        "traceparent",
        "user-agent",
        "webhook-id",
        "webhook-timestamp",
        "x-correlation-id",
        "x-request-id",
    }
)
# The longest value stored per header; the rest is cut.
MAX_STORED_VALUE = 1024
# Longest excerpt of a refused value quoted back in an error.
EXCERPT_CHARS = 40


def redacted(headers):
    """``headers`` with every value outside the allow-list replaced by ``REDACTED``."""
    return {
        name: str(value)[:MAX_STORED_VALUE] if name.lower() in STORABLE else REDACTED
        for name, value in headers.items()
    }


def allowed(headers):
    """Only the allow-listed ``headers``, the others left out (stored inbound headers)."""
    return {
        name.lower(): str(value)[:MAX_STORED_VALUE]
        for name, value in headers.items()
        if name.lower() in STORABLE
    }


def as_text(stored):
    """Stored headers (a JSON object) as HTTP writes them, one ``Name: value`` a line;
    text that is not such an object is returned as it is."""
    try:
        headers = json.loads(stored)
    except (TypeError, ValueError):
        return stored
    if not isinstance(headers, dict):
        return stored
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def control_character(value):
    """The first control character in ``value`` (NUL, other C0 controls, DEL), or None.

    PostgreSQL refuses NUL in text; the others have no place in a header either.
    Tab is allowed, as HTTP allows it inside a field value.
    """
    for char in value:
        if (char < " " and char != "\t") or char == "\x7f":
            return char
    return None


def excerpt(value, limit=EXCERPT_CHARS):
    """A short, printable excerpt of a refused value, to quote in an error."""
    text = repr(value[:limit])
    return text + "…" if len(value) > limit else text

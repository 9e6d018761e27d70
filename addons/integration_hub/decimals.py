"""Amounts and quantities of the canonical events: decimal strings, never floats.

One syntax for every flow and adapter: ``-?\\d+(\\.\\d+)?`` — no exponent, no ``_``,
no thousands separator, no leading ``+``, no spaces. Per field, a maximum of digits
before the point (``max_digits``) and after it (``max_decimals``); negative only where
the field allows it.

Event schemas refer to the same rule with ``{"$ref": "urn:integration-hub:decimal"}``
(non-negative) or ``{"$ref": "urn:integration-hub:signed-decimal"}``, so a value that
breaks it is refused at the webhook (``400 invalid_data`` with the field path) and never
reaches a handler.
"""

import re
from decimal import Decimal

MAX_DIGITS = 15
MAX_DECIMALS = 4

DECIMAL_URN = "urn:integration-hub:decimal"
SIGNED_DECIMAL_URN = "urn:integration-hub:signed-decimal"

# [0-9], not \d: Python's \d also matches the digits of other scripts ("١٢").
_SYNTAX = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")


def _pattern(signed):
    sign = "-?" if signed else ""
    return f"^{sign}[0-9]{{1,{MAX_DIGITS}}}(\\.[0-9]{{1,{MAX_DECIMALS}}})?$"


# The shared JSON-schema definitions, by URN (see integration.event.type._validator).
SCHEMA_DEFINITIONS = {
    DECIMAL_URN: {
        "$id": DECIMAL_URN,
        "type": "string",
        "pattern": _pattern(signed=False),
        # Python's "$" also matches before a final newline: refuse it explicitly.
        "not": {"pattern": "\n"},
        "description": f'A non-negative decimal string such as "120.00": at most '
        f"{MAX_DIGITS} digits before the point and {MAX_DECIMALS} after it.",
    },
    SIGNED_DECIMAL_URN: {
        "$id": SIGNED_DECIMAL_URN,
        "type": "string",
        "pattern": _pattern(signed=True),
        "not": {"pattern": "\n"},
        "description": f'A decimal string such as "-12.50": at most {MAX_DIGITS} digits '
        f"before the point and {MAX_DECIMALS} after it.",
    },
}


class DecimalError(ValueError):
    """A value that is not an acceptable decimal; ``path`` names the field."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def parse_decimal(
    value, path, *, max_digits=MAX_DIGITS, max_decimals=MAX_DECIMALS, allow_negative=False
):
    """The ``Decimal`` the decimal string ``value`` (at field ``path``) stands for.

    Raises ``DecimalError`` naming ``path`` for anything else: a number (JSON floats are
    inexact), a boolean, an exponent, ``_``, separators, spaces, too many digits or
    decimals, or a negative value where ``allow_negative`` is false.
    """
    if not isinstance(value, str):
        raise DecimalError(path, f'must be a decimal string such as "120.00", not {value!r}')
    match = _SYNTAX.fullmatch(value)
    if not match:
        raise DecimalError(path, f'{value!r} is not a decimal number such as "120.00"')
    integer, decimals = match.group(1), match.group(2) or ""
    if len(integer) > max_digits:
        raise DecimalError(path, f"{value!r} has more than {max_digits} digits before the point")
    if len(decimals) > max_decimals:
        raise DecimalError(path, f"{value!r} has more than {max_decimals} decimals")
    number = Decimal(value)
    if number < 0 and not allow_negative:
        raise DecimalError(path, f"{value!r} must not be negative")
    return number

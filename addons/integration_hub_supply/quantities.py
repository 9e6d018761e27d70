"""Decimal strings of the canonical events (quantities, prices), parsed without the ORM."""

from decimal import Decimal, InvalidOperation

# Larger than any quantity or price a supply system sends; keeps floats exact enough.
LIMIT = Decimal("1e12")


def parse_decimal(value, allow_zero=True):
    """The non-negative ``Decimal`` a canonical decimal string stands for.

    Raises ``ValueError`` with a readable reason for anything that is not a finite
    number (``"abc"``, ``"NaN"``, ``"Infinity"``, booleans, lists), is negative, too
    large, or zero when ``allow_zero`` is false.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("is not a decimal number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("is not a decimal number") from exc
    if not number.is_finite():
        raise ValueError("is not a finite decimal number")
    if number < 0:
        raise ValueError("must not be negative")
    if number >= LIMIT:
        raise ValueError("is too large")
    if number == 0 and not allow_zero:
        raise ValueError("must be greater than zero")
    return number

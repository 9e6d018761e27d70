"""Decimal amounts from JSON strings: no floats from the wire, clear errors."""

import re
from decimal import Decimal

DECIMAL_RE = re.compile(r"^[+-]?\d{1,15}(\.\d{1,6})?$")


def parse_decimal(value, minimum=None):
    """The ``Decimal`` a JSON amount stands for.

    Amounts travel as decimal strings ("120.00"); integers are accepted too. A float,
    a boolean, an empty or non-numeric string raises ``ValueError`` with the reason,
    as does a value below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f'{value!r} is not a decimal string such as "120.00"')
    text = str(value).strip()
    if not DECIMAL_RE.match(text):
        raise ValueError(f'{value!r} is not a decimal number such as "120.00"')
    amount = Decimal(text)
    if minimum is not None and amount < minimum:
        raise ValueError(f"{value!r} is below {minimum}")
    return amount

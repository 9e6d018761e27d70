"""Review rules: the numbers of an event's data a person must see before posting.

Plain functions; ``integration.review.rule`` applies them to a message's data before
its handler runs.
"""

from decimal import Decimal, InvalidOperation


def values_at(data, path):
    """The numbers at the dotted ``path`` of ``data`` (``quantity``, ``lines.amount``):
    a list on the way is walked item by item; what is missing or not a number is
    skipped (the event's schema and its handler judge those)."""
    nodes = [data]
    for key in path.split("."):
        found = []
        for node in nodes:
            items = node if isinstance(node, list) else [node]
            for item in items:
                if isinstance(item, dict) and key in item:
                    found.append(item[key])
        nodes = found
    numbers = []
    for node in nodes:
        for value in node if isinstance(node, list) else [node]:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                continue
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                continue
            if number.is_finite():
                numbers.append(number)
    return numbers


def limit(maximum=None, factor=None, usual=None):
    """The largest acceptable value: ``maximum``, and ``factor`` times the ``usual``
    value when both are known (the smaller wins); None when there is no limit."""
    limits = []
    if maximum:
        limits.append(Decimal(str(maximum)))
    if factor and usual:
        limits.append(Decimal(str(factor)) * Decimal(str(usual)))
    return min(limits) if limits else None


def over_limit(values, maximum=None, factor=None, usual=None):
    """(the largest value over the limit, the limit), or None when all are within it."""
    highest = max(values, default=None)
    bound = limit(maximum, factor, usual)
    if highest is None or bound is None or highest <= bound:
        return None
    return highest, bound


def format_number(number):
    """``number`` as people write it: 100000, 12.5 (no exponent, no trailing zeros)."""
    text = f"{Decimal(str(number)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

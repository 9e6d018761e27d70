"""Alert rules: what a condition measures, and when an episode fires or clears.

Plain functions; ``integration.alert.rule`` gathers the figures (the Overview's) and
applies the decision. An *episode* is one (rule, backend) alert from the moment its
condition holds until it clears: it fires once, however many times the cron looks.
"""

from datetime import timedelta

# Conditions a rule watches; the threshold of each is the rule's unless said.
CONDITIONS = [
    ("late", "Oldest waiting message over the tier's target"),
    ("dead", "Dead messages"),
    ("circuit_open", "Delivery circuit open"),
    ("failure_rate", "Failure rate (24 h, %)"),
    ("gap", "Reconciliation gap"),
]


def measure(condition, figures, threshold, gap_code=None):
    """(value, limit) of ``condition`` in ``figures``; the condition holds when the
    value is over the limit.

    ``figures``: ``oldest_minutes``, ``target_minutes``, ``dead_count``,
    ``failure_rate``, ``circuit_state`` and ``gaps`` ({gap code: count}) of a backend.
    The oldest waiting message is measured against its latency tier's target, an open
    circuit as 1 against 0; the others against ``threshold``.
    """
    if condition == "late":
        return figures["oldest_minutes"], figures["target_minutes"]
    if condition == "circuit_open":
        return (1 if figures["circuit_state"] == "open" else 0), 0
    if condition == "dead":
        return figures["dead_count"], threshold
    if condition == "failure_rate":
        return figures["failure_rate"], threshold
    if condition == "gap":
        return figures["gaps"].get(gap_code, 0), threshold
    raise ValueError(f"unknown alert condition {condition!r}")


def step(holds, state, since, now, hold_minutes=0):
    """The next state of an episode: ``None`` (no episode), ``"pending"`` (the condition
    holds, not yet for ``hold_minutes``), ``"firing"`` or ``"resolved"``.

    ``state`` is the current one (``None``, ``"pending"`` or ``"firing"``) and ``since``
    when its condition started to hold. A pending episode whose condition clears is
    forgotten: nobody was told of it.
    """
    if not holds:
        return "resolved" if state == "firing" else None
    if state == "firing":
        return "firing"
    started = since if state == "pending" and since else now
    return "firing" if now - started >= timedelta(minutes=hold_minutes or 0) else "pending"

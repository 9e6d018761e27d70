"""Failure fingerprints: which exceptions and dead messages are the same problem.

Two failures share a fingerprint when they come from the same backend and event type,
are of the same kind, and their error texts differ only in the values they quote: ids,
numbers, codes, uuids and quoted values become placeholders, so "service code 'G0402'"
and "service code 'G0403'" of one backend fall into one group.
"""

import hashlib
import re

# Order matters: quoted values first (they may hold anything), then uuids and long hex
# ids, then codes mixing letters and digits, then the numbers left.
_PATTERNS = (
    (re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|«[^»]*»"), "<value>"),
    (
        re.compile(
            r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE
        ),
        "<uuid>",
    ),
    (re.compile(r"\b(?=[0-9a-f_]*\d)[0-9a-f_]{16,}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b(?:msg_[0-9a-z]+)\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b(?=[\w.-]*[A-Za-z])(?=[\w.-]*\d)[\w.-]+\b"), "<code>"),
    (re.compile(r"\d+(?:[-.,:/]\d+)*"), "<n>"),
)
_SPACES = re.compile(r"\s+")

# The kind a dead message's failure is grouped as: technical, its retries ran out.
DEAD_KIND = "dead"


def normalise(text):
    """``text`` with its variable parts replaced by placeholders, spaces collapsed."""
    text = text or ""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return _SPACES.sub(" ", text).strip()


def fingerprint(backend_id, event_type, kind, error):
    """A short stable digest of (backend, event type, kind, normalised error)."""
    key = "\x1f".join((str(backend_id or ""), event_type or "", kind or "", normalise(error)))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def pick_fix(fixes):
    """The fix to suggest among earlier ones, or None.

    ``fixes`` are ``(target, resolved_date, evidence_id)`` of earlier resolved failures
    of one fingerprint and code: the target applied most often wins, the latest one on
    a tie. Returns ``(target, [evidence_id, …])`` with the evidence of that target.
    """
    by_target = {}
    for target, resolved_date, evidence_id in fixes:
        count, latest, ids = by_target.get(target, (0, None, []))
        ids.append(evidence_id)
        latest = max(latest, resolved_date) if latest is not None else resolved_date
        by_target[target] = (count + 1, latest, ids)
    if not by_target:
        return None
    target, (_count, _latest, ids) = max(
        by_target.items(), key=lambda item: (item[1][0], item[1][1], str(item[0]))
    )
    return target, sorted(ids)

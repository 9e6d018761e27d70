"""Errors that decide what happens to a message.

Handlers raise these; ``integration.message._job_process`` treats each the same way for
every flow:

- ``IntegrationBusinessError``: a person must act; the message goes to ``exception``.
- ``UnmappedCodeError``: the same, and the exception remembers the code kind and the
  code, so *Map code and retry* can save the mapping and retry every message waiting on it.
- ``WaitingForRecordError``: a record the message needs has not arrived yet; the message
  is retried on its backend's schedule, at once when the record is bound, and becomes an
  exception (never dead) after the last attempt.

Any other error is technical: retried on the backend's schedule, then dead.
"""

from odoo.exceptions import UserError


class IntegrationBusinessError(UserError):
    """A person must act (unknown code, missing record, invalid data) before a retry.

    ``kind`` is a value of ``integration.exception.kind``; ``record``, when the handler
    knows it, is the Odoo record concerned (a charge, an order, a receipt): the
    exception links to it, so a person can open it.
    """

    def __init__(self, message, kind="validation", record=None):
        super().__init__(message)
        self.kind = kind
        self.record = record


class UnmappedCodeError(IntegrationBusinessError):
    """An external code has no code map yet for the message's backend.

    ``code_kind`` is the code of an ``integration.code.kind`` record (``"service"``),
    ``code`` the external code as the sender wrote it.
    """

    def __init__(self, code_kind, code, message=None, record=None):
        super().__init__(
            message
            or f"The {code_kind} code '{code}' is not mapped to an Odoo record: map it, "
            "then retry.",
            kind="unmapped_code",
            record=record,
        )
        self.code_kind = code_kind
        self.code = code


class WaitingForRecordError(IntegrationBusinessError):
    """A record this message needs has not arrived yet (events out of order).

    ``res_model`` and ``external_id`` name the binding the message waits for. After the
    backend's last attempt the message opens an exception of ``kind`` (default
    ``"waiting"``), which a binding for that record, when it comes, retries by itself.
    """

    def __init__(self, res_model, external_id, message=None, kind="waiting", record=None):
        super().__init__(
            message
            or f"Waiting for {res_model} '{external_id}': it has not arrived from the "
            "sending system yet.",
            kind=kind,
            record=record,
        )
        self.res_model = res_model
        self.external_id = str(external_id)


class IntakeError(Exception):
    """An inbound request refused with HTTP ``status`` and a stable ``code``.

    Raised by the intake shared by every inbound format (webhook, HL7 v2, FHIR); each
    controller turns it into its own answer (JSON, an HL7 ACK, an OperationOutcome).
    """

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_text(error):
    """What a person reads of ``error``: its own message, never a Python class name
    (``RetryableJobError('…')``); the traceback, for those allowed to read it, is kept
    beside it."""
    if isinstance(error, UserError):
        return str(error.args[0]) if error.args else str(error)
    if isinstance(error, KeyError) and error.args:
        return f"A required field is missing: {error.args[0]}."
    text = str(error).strip()
    return text or "An unexpected error occurred; the attempt keeps its details."


class ReviewRequiredError(IntegrationBusinessError):
    """A number of the event is over a review rule's limit: a person approves the
    message (it is then processed without that rule, once) or rejects it (cancelled).

    ``rule_id`` is the ``integration.review.rule`` that stopped it.
    """

    def __init__(self, rule_id, message):
        super().__init__(message, kind="review")
        self.rule_id = rule_id

"""Errors that decide what happens to a message."""

from odoo.exceptions import UserError


class IntegrationBusinessError(UserError):
    """A person must act (unknown code, missing record, invalid data) before a retry.

    ``kind`` is a value of ``integration.exception.kind``.
    """

    def __init__(self, message, kind="validation"):
        super().__init__(message)
        self.kind = kind


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

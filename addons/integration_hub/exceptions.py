"""Errors that decide what happens to a message."""

from odoo.exceptions import UserError


class IntegrationBusinessError(UserError):
    """A person must act (unknown code, missing record, invalid data) before a retry.

    ``kind`` is a value of ``integration.exception.kind``.
    """

    def __init__(self, message, kind="validation"):
        super().__init__(message)
        self.kind = kind

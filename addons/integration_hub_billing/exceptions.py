"""Business errors of the billing handlers."""

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class UnmappedCodeError(IntegrationBusinessError):
    """An external code has no mapping yet: the exception offers to map it."""

    def __init__(self, message, code_kind, code):
        super().__init__(message, kind="unmapped_code")
        self.code_kind = code_kind
        self.code = code

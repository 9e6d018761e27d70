"""Errors of the supply handlers that carry what a person needs to resolve them."""

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class UnmappedCodeError(IntegrationBusinessError):
    """An external code (item, unit, location, department) with no Odoo record yet.

    The exception it opens remembers ``code_kind`` and ``code``, so *Map and retry*
    saves the code map and replays the message in one step.
    """

    def __init__(self, message, code_kind, code):
        super().__init__(message, kind="unmapped_code")
        self.code_kind = code_kind
        self.code = code

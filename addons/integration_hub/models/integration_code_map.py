from odoo import api, fields, models

from ..exceptions import UnmappedCodeError


class IntegrationCodeMap(models.Model):
    """An external code (service, payer, location, …) mapped to an Odoo record."""

    _name = "integration.code.map"
    _description = "Integration Code Map"
    # The chatter keeps who mapped a code from an exception, and when.
    _inherit = ["mail.thread"]
    _order = "backend_id, kind, external_code"
    _rec_name = "external_code"

    backend_id = fields.Many2one(
        "integration.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    kind = fields.Char(
        required=True,
        help="What the code names: the code of a code kind, for example service, item, location.",
    )
    code_kind_id = fields.Many2one(
        "integration.code.kind", compute="_compute_code_kind_id", string="Code kind"
    )
    external_code = fields.Char(required=True)
    description = fields.Char()
    record_ref = fields.Reference(
        selection="_selection_res_model", string="Odoo record", required=True, tracking=True
    )
    active = fields.Boolean(default=True, tracking=True)

    _sql_constraints = [
        (
            "code_uniq",
            "unique(backend_id, kind, external_code)",
            "This code is already mapped for this backend.",
        ),
    ]

    @api.model
    def _selection_res_model(self):
        return self.env["integration.message"]._selection_result_model()

    @api.depends("kind")
    def _compute_code_kind_id(self):
        for mapping in self:
            mapping.code_kind_id = self.env["integration.code.kind"]._get(mapping.kind)

    @api.model
    def _lookup(self, backend, kind, external_code):
        """The mapped record, or None when the code is not mapped."""
        mapping = self.search(
            [
                ("backend_id", "=", backend.id),
                ("kind", "=", kind),
                ("external_code", "=", external_code),
            ],
            limit=1,
        )
        return mapping.record_ref if mapping else None

    @api.model
    def _resolve(self, backend, code_kind, code):
        """The record ``code`` of ``code_kind`` stands for at ``backend``.

        Raises ``UnmappedCodeError`` when the code is not mapped, or is mapped to a
        record the kind does not accept (another model, outside its domain, another
        company): the exception it opens offers *Map code and retry*.
        """
        record = self._lookup(backend, code_kind, code)
        kind = self.env["integration.code.kind"]._get(code_kind)
        if not record:
            raise UnmappedCodeError(
                code_kind,
                code,
                self.env._(
                    "The %(kind)s code '%(code)s' of %(backend)s is not mapped to an Odoo "
                    "record. Use 'Map code and retry' on this exception.",
                    kind=kind.name or code_kind,
                    code=code,
                    backend=backend.name,
                ),
            )
        if kind and not kind._accepts(record):
            raise UnmappedCodeError(
                code_kind,
                code,
                self.env._(
                    "The %(kind)s code '%(code)s' of %(backend)s is mapped to %(record)s, "
                    "which a %(kind)s code cannot stand for: map it again.",
                    kind=kind.name,
                    code=code,
                    backend=backend.name,
                    record=record.display_name,
                ),
            )
        company = "company_id" in record._fields and record.sudo().company_id
        if company and company != backend.company_id:
            raise UnmappedCodeError(
                code_kind,
                code,
                self.env._(
                    "The %(kind)s code '%(code)s' of %(backend)s is mapped to %(record)s, "
                    "a record of another company: map it to one of %(company)s.",
                    kind=kind.name or code_kind,
                    code=code,
                    backend=backend.name,
                    record=record.display_name,
                    company=backend.company_id.name,
                ),
            )
        return record

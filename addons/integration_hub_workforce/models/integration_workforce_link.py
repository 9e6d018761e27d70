from odoo import api, fields, models

# What a pending link waits for, and how it is found once it exists.
TARGET_KINDS = [
    ("department", "Department (by code)"),
    ("employee", "Employee (by external id)"),
    ("cost_center", "Cost centre (by code)"),
]


class IntegrationWorkforceLink(models.Model):
    """A link from an HR record to one that has not arrived yet.

    A department may arrive before its parent, its cost centre or its manager, an
    employee before its manager or cost centre: the record is created without the link
    and the link waits here; the handler of the missing record fills it in when it
    arrives. No person is needed and no message fails.
    """

    _name = "integration.workforce.link"
    _description = "Integration Workforce: pending link"
    _order = "id"

    backend_id = fields.Many2one(
        "integration.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    res_model = fields.Char(string="Model", required=True)
    res_id = fields.Many2oneReference(model_field="res_model", string="Record", required=True)
    field_name = fields.Char(required=True, help="The field of the record to fill in.")
    target_kind = fields.Selection(TARGET_KINDS, required=True)
    target_ref = fields.Char(
        string="Awaited reference", required=True, help="The awaited record's code or id."
    )
    message_id = fields.Many2one("integration.message", ondelete="set null")

    _sql_constraints = [
        (
            "field_uniq",
            "unique(backend_id, res_model, res_id, field_name)",
            "A field of a record waits for one record only.",
        ),
    ]

    @api.model
    def _set(self, message, record, field_name, target_kind, target_ref, *, new=False):
        """Remember that ``record.field_name`` waits for ``target_ref``; a later event
        for the same field replaces what it waited for (``target_ref`` None: nothing).
        ``new``: ``record`` was just created, so nothing of it waits yet (no search)."""
        existing = self.browse()
        if not new:
            existing = self.search(
                [
                    ("backend_id", "=", message.backend_id.id),
                    ("res_model", "=", record._name),
                    ("res_id", "=", record.id),
                    ("field_name", "=", field_name),
                ]
            )
        if not target_ref:
            existing.unlink()
            return self
        values = {"target_kind": target_kind, "target_ref": target_ref, "message_id": message.id}
        if existing:
            existing.write(values)
            return existing
        return self.create(
            dict(
                values,
                backend_id=message.backend_id.id,
                res_model=record._name,
                res_id=record.id,
                field_name=field_name,
            )
        )

    @api.model
    def _fulfil(self, backend, target_kind, target_ref, target):
        """``target`` arrived as ``target_ref``: fill in every link that waited for it."""
        links = self.search(
            [
                ("backend_id", "=", backend.id),
                ("target_kind", "=", target_kind),
                ("target_ref", "=", target_ref),
            ]
        )
        for link in links:
            record = self.env[link.res_model].with_context(active_test=False).browse(link.res_id)
            if record.exists():
                record[link.field_name] = target
        links.unlink()
        return links

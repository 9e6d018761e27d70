from odoo import api, fields, models

from ..exceptions import WaitingForRecordError


class IntegrationBinding(models.Model):
    """Which Odoo record stands for which record of an external system."""

    _name = "integration.binding"
    _description = "Integration Binding"
    _order = "id desc"
    _rec_name = "external_id"

    backend_id = fields.Many2one(
        "integration.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    res_model = fields.Char(string="Odoo model", required=True)
    res_id = fields.Many2oneReference(
        model_field="res_model", string="Odoo record id", required=True
    )
    record_ref = fields.Reference(
        selection="_selection_res_model", compute="_compute_record_ref", string="Odoo record"
    )
    external_id = fields.Char(required=True, help="The record's id in the external system.")
    external_updated_at = fields.Datetime(
        help="Last change time the external system reported; older updates are skipped."
    )
    # Indexed: retention deletes messages, and PostgreSQL then clears this link.
    last_message_id = fields.Many2one(
        "integration.message", ondelete="set null", index="btree_not_null"
    )

    _sql_constraints = [
        (
            "external_uniq",
            "unique(backend_id, res_model, external_id)",
            "This external record is already bound for this backend.",
        ),
    ]

    @api.model
    def _selection_res_model(self):
        return self.env["integration.message"]._selection_result_model()

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for binding in self:
            binding.record_ref = (
                f"{binding.res_model},{binding.res_id}" if binding.res_id else False
            )

    def _record(self):
        self.ensure_one()
        return self.env[self.res_model].browse(self.res_id).exists()

    # The binder: the only way flow code reads or writes bindings --------------

    @api.model
    def _find(self, backend, res_model, external_id):
        return self.search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", res_model),
                ("external_id", "=", str(external_id)),
            ],
            limit=1,
        )

    @api.model
    def _to_internal(self, backend, res_model, external_id, wait=False):
        """The ``res_model`` record bound to ``external_id`` for ``backend``.

        An empty recordset when nothing (or a since-deleted record) is bound; with
        ``wait=True`` it raises ``WaitingForRecordError`` instead, so the message is
        retried when the record arrives.
        """
        binding = self._find(backend, res_model, external_id)
        record = binding._record() if binding else self.env[res_model]
        if not record and wait:
            raise WaitingForRecordError(
                res_model,
                external_id,
                self.env._(
                    "%(model)s '%(id)s' of %(backend)s has not arrived yet: this message "
                    "is retried when it does.",
                    model=self.env[res_model]._description,
                    id=external_id,
                    backend=backend.name,
                ),
            )
        return record

    @api.model
    def _to_external(self, backend, record):
        """The external id ``record`` is bound to for ``backend``, or False."""
        record.ensure_one()
        binding = self.search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ],
            limit=1,
        )
        return binding.external_id or False

    @api.model
    def _is_stale(self, backend, res_model, external_id, updated_at):
        """True when ``updated_at`` is older than the last update applied to the record."""
        if not updated_at:
            return False
        return self._find(backend, res_model, external_id)._is_older(updated_at)

    def _is_older(self, updated_at):
        """True when ``updated_at`` is older than the last update applied through this
        binding (False for no binding, or no ``updated_at``)."""
        return bool(
            self
            and updated_at
            and self.external_updated_at
            and updated_at < self.external_updated_at
        )

    @api.model
    def _rebind(self, record, new_record):
        """Every external id ``record`` is bound to, for any backend, now stands for
        ``new_record``: two records turned out to be one (a patient merge)."""
        record.ensure_one()
        new_record.ensure_one()
        bindings = self.search([("res_model", "=", record._name), ("res_id", "=", record.id)])
        bindings.write({"res_id": new_record.id})
        return bindings

    @api.model
    def _bind(self, backend, external_id, record, updated_at=None, message=None, *, binding=None):
        """Bind ``record`` to ``external_id`` for ``backend`` (create or update).

        ``updated_at`` is the external system's change time (see ``_is_stale``); the
        messages waiting for this record are retried at once. ``binding`` is what
        ``_find`` returned for them earlier in this transaction (empty: none), so a
        handler that already looked it up does not look again.
        """
        record.ensure_one()
        external_id = str(external_id)
        if binding is None:
            binding = self._find(backend, record._name, external_id)
        values = {"res_id": record.id}
        if message:
            values["last_message_id"] = message.id
        if updated_at:
            values["external_updated_at"] = updated_at
        if binding:
            binding.write(values)
        else:
            binding = self.create(
                dict(
                    values,
                    backend_id=backend.id,
                    res_model=record._name,
                    external_id=external_id,
                )
            )
        self.env["integration.message"]._wake_waiting(backend, record._name, external_id)
        return binding

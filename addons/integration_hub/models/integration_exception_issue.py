"""Extends integration.exception: its failure fingerprint, the fix that resolved it, and
the fix that resolved earlier exceptions of the same fingerprint and code."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..fingerprint import fingerprint, pick_fix


class IntegrationException(models.Model):
    _inherit = "integration.exception"

    fingerprint = fields.Char(
        compute="_compute_fingerprint",
        store=True,
        index="btree_not_null",
        readonly=True,
        help="The same backend, event type, kind and error with its values left out: "
        "exceptions sharing it are one issue.",
    )
    fix_res_model = fields.Char(string="Fixed by mapping to model", readonly=True)
    fix_res_id = fields.Many2oneReference(
        model_field="fix_res_model",
        string="Fixed by mapping to",
        readonly=True,
        help="The Odoo record its unmapped code was mapped to by 'Map code and retry'.",
    )
    suggested_fix = fields.Char(compute="_compute_suggested_fix")
    suggested_fix_evidence_ids = fields.Many2many(
        "integration.exception",
        compute="_compute_suggested_fix",
        string="Earlier exceptions fixed so",
    )

    @api.depends("backend_id", "event_type", "kind", "explanation")
    def _compute_fingerprint(self):
        for exception in self:
            exception.fingerprint = fingerprint(
                exception.backend_id.id, exception.event_type, exception.kind, exception.explanation
            )

    @api.depends("fingerprint", "external_code", "state")
    @api.depends_context("uid")
    def _compute_suggested_fix(self):
        for exception in self:
            found = exception._find_suggested_fix()
            if not found:
                exception.suggested_fix = False
                exception.suggested_fix_evidence_ids = False
                continue
            record, evidence = found
            exception.suggested_fix = self.env._(
                "Mapped %(kind)s code '%(code)s' to %(record)s on %(count)s earlier "
                "exception(s) like this one.",
                kind=exception.code_kind_id.name,
                code=exception.external_code,
                record=record.display_name,
                count=len(evidence),
            )
            exception.suggested_fix_evidence_ids = evidence

    def _find_suggested_fix(self):
        """``(record, earlier exceptions)``: what 'Map code and retry' mapped this code
        to on resolved exceptions of the same fingerprint the user may see, or None."""
        self.ensure_one()
        if (
            self.state not in ("open", "in_progress")
            or self.kind != "unmapped_code"
            or not self.external_code
            or not self.fingerprint
        ):
            return None
        earlier = self.search(
            [
                ("fingerprint", "=", self.fingerprint),
                ("external_code", "=", self.external_code),
                ("state", "=", "resolved"),
                ("fix_res_model", "!=", False),
                ("id", "!=", self.id),
            ]
        )
        picked = pick_fix(
            ((e.fix_res_model, e.fix_res_id), e.resolved_date or e.write_date, e.id)
            for e in earlier
        )
        if not picked:
            return None
        (res_model, res_id), evidence_ids = picked
        record = self.env[res_model].browse(res_id).exists() if res_model in self.env else None
        if not record:
            return None
        return record, self.browse(evidence_ids)

    def _record_fix(self, record):
        """'Map code and retry' mapped these exceptions' code to ``record``."""
        self.sudo().write({"fix_res_model": record._name, "fix_res_id": record.id})

    def action_apply_suggested_fix(self):
        """Map the code as it was mapped before, through 'Map code and retry'."""
        applied = self.env["integration.exception"]
        for exception in self:
            found = exception._find_suggested_fix()
            if not found or exception in applied:
                continue
            # The wizard retries every open exception waiting on the same code.
            applied |= exception._same_code().with_env(self.env) | exception
            wizard = self.env["integration.code.map.wizard"].create(
                {"exception_id": exception.id, "res_id": found[0].id}
            )
            wizard.action_map_and_retry()
        if not applied:
            raise UserError(self.env._("There is no earlier fix to apply to these exceptions."))
        return True

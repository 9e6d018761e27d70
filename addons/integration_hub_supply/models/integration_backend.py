"""Extends integration.backend: the supply flow's reconciliation gaps on the Overview."""

from odoo import api, models

PENDING_CONSUMPTIONS = "supply.pending_consumptions"


class IntegrationBackend(models.Model):
    _inherit = "integration.backend"

    @api.model
    def _overview_gap_labels(self):
        label = self.env._("Supply: consumptions not yet booked")
        return [*super()._overview_gap_labels(), (PENDING_CONSUMPTIONS, label)]

    def _overview_gaps(self):
        gaps = super()._overview_gaps()
        if self.ids and self.env["integration.supply.consumption"].has_access("read"):
            # Through the state index: pending consumptions are few, the done ones many.
            for backend, count in self.env["integration.supply.consumption"]._read_group(
                [("backend_id", "in", self.ids), ("state", "=", "pending")],
                ["backend_id"],
                ["__count"],
            ):
                gaps[backend.id][PENDING_CONSUMPTIONS] = count
        return gaps

    def _overview_gap_action(self, code):
        if code != PENDING_CONSUMPTIONS:
            return super()._overview_gap_action(code)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub_supply.integration_supply_consumption_action"
        )
        action["domain"] = [("backend_id", "=", self.id), ("state", "=", "pending")]
        action["context"] = {}
        return action

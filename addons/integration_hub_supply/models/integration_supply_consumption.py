import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

# Jobs of critical supplies run before everything else (queue_job's default is 10).
CRITICAL_PRIORITY = 1


class IntegrationSupplyConsumption(models.Model):
    """One supply.consumed event: what a procedure used, and the stock move it made."""

    _name = "integration.supply.consumption"
    _description = "Supply Consumption"
    _order = "consumed_at desc, id desc"

    name = fields.Char(string="External id", required=True, readonly=True)
    # Indexed: retention deletes messages, and PostgreSQL then clears this link.
    message_id = fields.Many2one(
        "integration.message", readonly=True, ondelete="set null", index="btree_not_null"
    )
    backend_id = fields.Many2one(
        "integration.backend", required=True, readonly=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    # Indexed: review rules read an item's latest consumptions.
    product_id = fields.Many2one("product.product", required=True, readonly=True, index=True)
    quantity = fields.Float(digits="Product Unit of Measure", required=True, readonly=True)
    uom_id = fields.Many2one("uom.uom", string="Unit", required=True, readonly=True)
    lot_id = fields.Many2one("stock.lot", string="Lot/serial", readonly=True)
    location_id = fields.Many2one(
        "stock.location", string="Care location", required=True, readonly=True, index=True
    )
    location_dest_id = fields.Many2one(
        "stock.location", string="Consumption location", required=True, readonly=True
    )
    department_code = fields.Char(readonly=True)
    encounter_ref = fields.Char(string="Encounter", readonly=True)
    consumed_at = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("pending", "Pending (batch)"), ("done", "Done")],
        required=True,
        default="pending",
        readonly=True,
        index=True,
    )
    move_id = fields.Many2one("stock.move", string="Stock move", readonly=True)
    # The stock valuation is for Inventory administrators (and the hub's people), as in
    # Odoo: a stock user keeps the log without its cost.
    value = fields.Monetary(
        compute="_compute_value",
        currency_field="currency_id",
        groups="stock.group_stock_manager,integration_hub.integration_hub_group_user",
        help="Cost of the consumed stock.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    replenishment_ids = fields.One2many(
        "integration.supply.replenishment", "consumption_id", string="Replenishment decisions"
    )

    @api.depends("move_id.stock_valuation_layer_ids.value")
    def _compute_value(self):
        for consumption in self:
            layers = consumption.move_id.sudo().stock_valuation_layer_ids
            consumption.value = -sum(layers.mapped("value"))

    def _prepare_move(self):
        self.ensure_one()
        origin = " / ".join(filter(None, [self.department_code, self.encounter_ref]))
        return {
            "name": self.env._("Consumption %(ref)s", ref=self.name),
            "origin": origin or self.name,
            "product_id": self.product_id.id,
            "product_uom_qty": self.quantity,
            "product_uom": self.uom_id.id,
            "location_id": self.location_id.id,
            "location_dest_id": self.location_dest_id.id,
            "company_id": self.company_id.id,
        }

    def _validate(self):
        """Post the pending consumptions as done stock moves, valued at the product's
        cost, then replenish the critical supplies they took below their minimum."""
        pending = self.filtered(lambda c: c.state == "pending")
        if not pending:
            return self
        moves = self.env["stock.move"].create([c._prepare_move() for c in pending])
        moves._action_confirm(merge=False)
        self.env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "product_id": consumption.product_id.id,
                    "product_uom_id": consumption.uom_id.id,
                    "quantity": consumption.quantity,
                    "lot_id": consumption.lot_id.id,
                    "location_id": consumption.location_id.id,
                    "location_dest_id": consumption.location_dest_id.id,
                    "company_id": consumption.company_id.id,
                }
                for consumption, move in zip(pending, moves, strict=True)
            ]
        )
        moves.picked = True
        moves._action_done()
        for consumption, move in zip(pending, moves, strict=True):
            consumption.write({"move_id": move.id, "state": "done"})
        pending._check_replenishment()
        return pending

    def _check_replenishment(self):
        """Queue the replenishment of each critical supply now below its minimum, on
        the high-priority channel, once per minimum rule while a job is waiting."""
        channel = self.env.ref("integration_hub_supply.queue_job_channel_integration_critical")
        orderpoint_model = self.env["stock.warehouse.orderpoint"]
        seen = set()
        for consumption in self.filtered("product_id.integration_critical"):
            key = (consumption.product_id.id, consumption.location_id.id)
            if key in seen:
                continue
            seen.add(key)
            orderpoint = orderpoint_model.search(
                [
                    ("product_id", "=", consumption.product_id.id),
                    ("location_id", "=", consumption.location_id.id),
                    ("company_id", "=", consumption.company_id.id),
                ],
                limit=1,
            )
            if not orderpoint or not orderpoint._integration_below_minimum():
                continue
            orderpoint.with_delay(
                channel=channel.sudo().complete_name,
                priority=CRITICAL_PRIORITY,
                identity_key=f"stock.warehouse.orderpoint,{orderpoint.id},integration_replenish",
                description=self.env._(
                    "Replenish %(product)s at %(location)s",
                    product=orderpoint.product_id.display_name,
                    location=orderpoint.location_id.complete_name,
                ),
            )._job_integration_replenish(consumption)

    @api.model
    def _cron_validate_pending(self):
        """Validate the pending consumptions of batch backends, one batch per location."""
        pending = self.search([("state", "=", "pending")], order="location_id, id")
        done = self.browse()
        for location in pending.location_id:
            batch = pending.filtered(lambda c, loc=location: c.location_id == loc)
            try:
                with self.env.cr.savepoint():
                    done |= batch._validate()
            except Exception:  # one location's failure must not stop the others
                _logger.exception(
                    "consumptions at %s could not be validated; they stay pending",
                    location.complete_name,
                )
        return len(done)

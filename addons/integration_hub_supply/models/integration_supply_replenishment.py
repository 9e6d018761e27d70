from odoo import api, fields, models
from odoo.tools import float_compare, float_round

OPEN_PURCHASE_STATES = ("draft", "sent", "to approve", "purchase")


class IntegrationSupplyReplenishment(models.Model):
    """Why a critical supply was replenished by transfer, by purchase, or not at all."""

    _name = "integration.supply.replenishment"
    _description = "Replenishment Decision"
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    orderpoint_id = fields.Many2one(
        "stock.warehouse.orderpoint", string="Minimum rule", readonly=True, ondelete="set null"
    )
    consumption_id = fields.Many2one(
        "integration.supply.consumption", readonly=True, ondelete="set null", index=True
    )
    product_id = fields.Many2one("product.product", required=True, readonly=True)
    location_id = fields.Many2one("stock.location", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    uom_id = fields.Many2one(related="orderpoint_id.product_uom", string="Unit")
    qty_on_hand = fields.Float(digits="Product Unit of Measure", readonly=True)
    qty_forecast = fields.Float(
        digits="Product Unit of Measure",
        readonly=True,
        help="On hand plus transfers on their way plus purchases not yet received.",
    )
    qty_minimum = fields.Float(digits="Product Unit of Measure", readonly=True)
    qty_needed = fields.Float(digits="Product Unit of Measure", readonly=True)
    decision = fields.Selection(
        [
            ("transfer", "Internal transfer"),
            ("purchase", "Purchase"),
            ("nothing", "Nothing to do"),
            ("no_vendor", "No vendor"),
        ],
        required=True,
        readonly=True,
    )
    reason = fields.Text(readonly=True)
    source_location_id = fields.Many2one("stock.location", readonly=True)
    picking_id = fields.Many2one("stock.picking", string="Transfer", readonly=True)
    purchase_order_id = fields.Many2one("purchase.order", readonly=True)

    @api.depends("product_id", "location_id", "decision")
    def _compute_name(self):
        labels = dict(self._fields["decision"]._description_selection(self.env))
        for record in self:
            record.name = (
                f"{record.product_id.display_name} @ {record.location_id.name}: "
                f"{labels.get(record.decision)}"
            )

    @api.model
    def _decide(self, orderpoint, consumption=None):
        """Replenish ``orderpoint``'s location up to its maximum (or minimum): from the
        location with the largest surplus when it covers the need, else by adding to a
        draft purchase order with the preferred vendor. Records the decision."""
        product, location, uom = (
            orderpoint.product_id,
            orderpoint.location_id,
            orderpoint.product_uom,
        )
        on_hand = orderpoint._integration_on_hand()
        forecast = self._forecast(orderpoint)
        minimum = orderpoint.product_min_qty
        values = {
            "orderpoint_id": orderpoint.id,
            "consumption_id": consumption.id if consumption else False,
            "product_id": product.id,
            "location_id": location.id,
            "company_id": orderpoint.company_id.id,
            "qty_on_hand": on_hand,
            "qty_forecast": forecast,
            "qty_minimum": minimum,
        }
        if float_compare(forecast, minimum, precision_rounding=uom.rounding) >= 0:
            return self.create(
                dict(
                    values,
                    decision="nothing",
                    reason=self.env._(
                        "Forecast %(forecast)s %(uom)s covers the minimum %(minimum)s: a "
                        "transfer or purchase is already on its way.",
                        forecast=forecast,
                        uom=uom.name,
                        minimum=minimum,
                    ),
                )
            )
        need = float_round(
            max(orderpoint.product_max_qty, minimum) - forecast,
            precision_rounding=uom.rounding,
            rounding_method="UP",
        )
        values["qty_needed"] = need
        source, surplus, best = self._surplus_source(orderpoint, need)
        if source:
            picking = self._create_transfer(orderpoint, source, need)
            return self.create(
                dict(
                    values,
                    decision="transfer",
                    source_location_id=source.id,
                    picking_id=picking.id,
                    reason=self.env._(
                        "%(origin)s holds %(surplus)s %(uom)s above its own minimum, enough "
                        "for the %(need)s needed: internal transfer %(picking)s.",
                        origin=source.complete_name,
                        surplus=surplus,
                        uom=uom.name,
                        need=need,
                        picking=picking.name,
                    ),
                )
            )
        elsewhere = (
            self.env._(
                "the largest surplus is %(surplus)s at %(location)s",
                surplus=best[1],
                location=best[0].complete_name,
            )
            if best
            else self.env._("no other location holds a surplus")
        )
        seller = self._preferred_seller(orderpoint)
        if not seller:
            return self.create(
                dict(
                    values,
                    decision="no_vendor",
                    reason=self.env._(
                        "No transfer (%(elsewhere)s, %(need)s %(uom)s needed) and %(product)s "
                        "has no vendor: add one on the product, a buyer must order it.",
                        elsewhere=elsewhere,
                        need=need,
                        uom=uom.name,
                        product=product.display_name,
                    ),
                )
            )
        order = self._add_to_draft_purchase(orderpoint, seller, need)
        return self.create(
            dict(
                values,
                decision="purchase",
                purchase_order_id=order.id,
                reason=self.env._(
                    "No transfer: %(elsewhere)s, %(need)s %(uom)s needed. Added to draft "
                    "purchase order %(order)s of %(vendor)s, the preferred vendor.",
                    elsewhere=elsewhere,
                    need=need,
                    uom=uom.name,
                    order=order.name,
                    vendor=seller.partner_id.display_name,
                ),
            )
        )

    @api.model
    def _forecast(self, orderpoint):
        """On hand at the location, plus moves on their way in or out, plus what this
        minimum rule's purchase lines have still to receive."""
        product = orderpoint.product_id.with_context(location=orderpoint.location_id.id)
        product.invalidate_recordset(["virtual_available"])
        forecast = orderpoint.product_id.uom_id._compute_quantity(
            product.virtual_available, orderpoint.product_uom, round=False
        )
        lines = self.env["purchase.order.line"].search(
            [("orderpoint_id", "=", orderpoint.id), ("state", "in", OPEN_PURCHASE_STATES)]
        )
        for line in lines:
            forecast += line.product_uom._compute_quantity(
                max(line.product_qty - line.qty_received, 0.0), orderpoint.product_uom, round=False
            )
        return forecast

    @api.model
    def _surplus_source(self, orderpoint, need):
        """The internal location (outside the replenished one) with the largest surplus
        above its own minimum: (location, surplus, largest) where location is empty
        when that surplus does not cover ``need``."""
        product, uom = orderpoint.product_id, orderpoint.product_uom
        groups = self.env["stock.quant"]._read_group(
            [
                ("product_id", "=", product.id),
                ("company_id", "=", orderpoint.company_id.id),
                ("location_id.usage", "=", "internal"),
                "!",
                ("location_id", "child_of", orderpoint.location_id.id),
            ],
            ["location_id"],
            ["quantity:sum", "reserved_quantity:sum"],
        )
        minimums = {
            op.location_id.id: op.product_uom._compute_quantity(op.product_min_qty, uom)
            for op in self.env["stock.warehouse.orderpoint"].search(
                [("product_id", "=", product.id), ("company_id", "=", orderpoint.company_id.id)]
            )
        }
        candidates = sorted(
            (
                (
                    location,
                    product.uom_id._compute_quantity(quantity - reserved, uom, round=False)
                    - minimums.get(location.id, 0.0),
                )
                for location, quantity, reserved in groups
            ),
            key=lambda candidate: (-candidate[1], candidate[0].id),
        )
        best = candidates[0] if candidates and candidates[0][1] > 0 else None
        if best and float_compare(best[1], need, precision_rounding=uom.rounding) >= 0:
            return best[0], best[1], best
        return self.env["stock.location"], 0.0, best

    @api.model
    def _create_transfer(self, orderpoint, source, need):
        warehouse = orderpoint.location_id.warehouse_id or orderpoint.warehouse_id
        picking_type = warehouse.int_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": orderpoint.location_id.id,
                "company_id": orderpoint.company_id.id,
                "origin": orderpoint.name,
                "move_ids": [
                    fields.Command.create(
                        {
                            "name": orderpoint.product_id.display_name,
                            "product_id": orderpoint.product_id.id,
                            "product_uom_qty": need,
                            "product_uom": orderpoint.product_uom.id,
                            "location_id": source.id,
                            "location_dest_id": orderpoint.location_id.id,
                            "company_id": orderpoint.company_id.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        return picking

    @api.model
    def _preferred_seller(self, orderpoint):
        """The product's first vendor price line valid for the company."""
        return orderpoint.product_id.seller_ids.filtered(
            lambda s: not s.company_id or s.company_id == orderpoint.company_id
        )[:1]

    @api.model
    def _add_to_draft_purchase(self, orderpoint, seller, need):
        """Add ``need`` to the vendor's draft purchase order for the warehouse (created
        when there is none); the minimum rule's own line grows rather than doubling."""
        warehouse = orderpoint.location_id.warehouse_id or orderpoint.warehouse_id
        picking_type = warehouse.in_type_id
        order_model = self.env["purchase.order"]
        order = order_model.search(
            [
                ("partner_id", "=", seller.partner_id.id),
                ("state", "=", "draft"),
                ("company_id", "=", orderpoint.company_id.id),
                ("picking_type_id", "=", picking_type.id),
            ],
            order="id",
            limit=1,
        )
        if not order:
            order = order_model.create(
                {
                    "partner_id": seller.partner_id.id,
                    "company_id": orderpoint.company_id.id,
                    "picking_type_id": picking_type.id,
                    "origin": orderpoint.name,
                }
            )
        line = order.order_line.filtered(lambda ol: ol.orderpoint_id == orderpoint)[:1]
        if line:
            line.product_qty += orderpoint.product_uom._compute_quantity(need, line.product_uom)
        else:
            self.env["purchase.order.line"].create(
                {
                    "order_id": order.id,
                    "product_id": orderpoint.product_id.id,
                    "product_qty": need,
                    "product_uom": orderpoint.product_uom.id,
                    "orderpoint_id": orderpoint.id,
                }
            )
        return order

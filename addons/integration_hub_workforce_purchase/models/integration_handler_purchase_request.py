"""Extends integration.handler.purchase.request: route the order to the department's
manager."""

from odoo import models


class IntegrationHandlerPurchaseRequest(models.AbstractModel):
    _inherit = "integration.handler.purchase.request"

    def _handle(self, message, data):
        order = super()._handle(message, data)
        code = data.get("department_code")
        department = code and self.env["hr.department"].search(
            [("integration_code", "=", code), ("company_id", "=", message.company_id.id)],
            limit=1,
        )
        if not department:
            return order
        orders = self.env["purchase.order"].search(
            [
                ("origin", "=", data["id"]),
                ("company_id", "=", message.company_id.id),
                ("state", "in", ("draft", "sent")),
                ("integration_department_id", "=", False),
            ]
        )
        for request_order in orders:
            request_order.integration_department_id = department
            approver = request_order._integration_route_approval()
            if not approver:
                self._open_follow_up(
                    message,
                    "no_approver",
                    self.env._(
                        "Purchase order %(order)s of department %(department)s has no "
                        "approver: its manager %(manager)s has no Odoo user (none linked, "
                        "and no user's login or e-mail is their work e-mail). Give the "
                        "manager a user, or approve as a purchase manager.",
                        order=request_order.name,
                        department=department.name,
                        manager=department.manager_id.name or self.env._("(none)"),
                    ),
                    record=request_order,
                )
        return order

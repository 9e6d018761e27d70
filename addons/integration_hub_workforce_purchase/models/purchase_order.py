"""Extends purchase.order: approval by the requesting department's manager."""

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    integration_department_id = fields.Many2one(
        "hr.department",
        string="Requesting department",
        readonly=True,
        copy=False,
        help="The department whose purchase request created this order; its manager approves it.",
    )
    integration_approver_id = fields.Many2one(
        "res.users",
        string="Approver",
        readonly=True,
        copy=False,
        help="The department manager's Odoo user, who may confirm this order (as may "
        "purchase managers).",
    )

    def _integration_route_approval(self):
        """Ask the department manager's user to approve: an activity for them. The
        approver, or an empty recordset when the manager has no user."""
        self.ensure_one()
        manager = self.integration_department_id.manager_id
        approver = manager._integration_approver_user() if manager else self.env["res.users"]
        self.integration_approver_id = approver
        if approver:
            # No e-mail from the hub's technical user (it has no address): the activity
            # shows in the approver's activities and on the order.
            self.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Approve purchase request %(origin)s", origin=self.origin),
                note=self.env._(
                    "As manager of %(department)s, confirm this order or cancel it.",
                    department=self.integration_department_id.name,
                ),
                user_id=approver.id,
            )
        return approver

    def _integration_approval_activities(self):
        todo = self.env.ref("mail.mail_activity_data_todo")
        return self.activity_ids.filtered(
            lambda a: a.activity_type_id == todo and a.user_id == self.integration_approver_id
        )

    def _integration_reroute_approvals(self, department, old_manager):
        """HR changed ``department``'s manager: its open approvals move to the new one."""
        orders = self.search(
            [
                ("integration_department_id", "=", department.id),
                ("state", "in", ("draft", "sent", "to approve")),
            ]
        )
        for order in orders:
            activities = order._integration_approval_activities()
            new_manager = department.manager_id
            approver = (
                new_manager._integration_approver_user() if new_manager else self.env["res.users"]
            )
            order.integration_approver_id = approver
            if approver:
                activities.with_context(mail_activity_quick_update=True).write(
                    {"user_id": approver.id}
                )
                if not activities:
                    order._integration_route_approval()
            else:
                activities.unlink()
            order.message_post(
                body=Markup("%s")
                % self.env._(
                    "Approval moved from %(old)s to %(new)s, the new manager of %(department)s.",
                    old=old_manager.name or self.env._("nobody"),
                    new=(approver.name if approver else new_manager.name) or self.env._("nobody"),
                    department=department.name,
                )
            )

    def _integration_manager_may_approve(self):
        """The approver confirms alone up to the department's limit."""
        self.ensure_one()
        limit = self.integration_department_id.integration_approval_limit
        return (
            self.env.user == self.integration_approver_id
            and self.currency_id.compare_amounts(
                self.amount_total,
                self.company_id.currency_id._convert(
                    limit, self.currency_id, self.company_id, self.date_order or fields.Date.today()
                ),
            )
            <= 0
        )

    def _approval_allowed(self):
        if self.integration_department_id and self._integration_manager_may_approve():
            return True
        return super()._approval_allowed()

    def button_confirm(self):
        is_purchase_manager = self.env.user.has_group("purchase.group_purchase_manager")
        for order in self.filtered(
            lambda o: o.integration_department_id and o.state in ("draft", "sent")
        ):
            if not is_purchase_manager and self.env.user != order.integration_approver_id:
                raise UserError(
                    self.env._(
                        "Only %(approver)s, manager of %(department)s, or a purchase manager "
                        "can confirm %(order)s.",
                        approver=order.integration_approver_id.name
                        or order.integration_department_id.manager_id.name
                        or self.env._("the department's manager"),
                        department=order.integration_department_id.name,
                        order=order.name,
                    )
                )
        result = super().button_confirm()
        for order in self.filtered("integration_department_id"):
            if order.state in ("purchase", "done", "to approve"):
                order._integration_approval_activities().action_feedback(
                    feedback=self.env._("Confirmed by %(user)s", user=self.env.user.name)
                )
        return result

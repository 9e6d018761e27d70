from odoo import models


class Base(models.AbstractModel):
    _inherit = "base"

    def _integration_emit(self, event_code, subscription_id=None):
        """Tell the subscribers of ``event_code`` about these records.

        The one API flows emit through, e.g. ``invoices._integration_emit("invoice.posted")``.
        One outbound message per (subscription, record) is written in the caller's
        transaction and its delivery queued: nothing waits for the network, and a
        rolled-back transaction emits nothing. Returns the messages.
        """
        subscriptions = self.env["integration.subscription"].sudo()
        if subscription_id:  # a change trigger of one subscription (automation rule)
            subscriptions = subscriptions.browse(subscription_id).filtered("active")
        elif self:
            subscriptions = subscriptions.browse(
                subscriptions._subscription_ids(self._name, event_code)
            )
        if not self or not subscriptions:
            return self.env["integration.message"]
        return subscriptions._emit(self)

from odoo import models


class Base(models.AbstractModel):
    _inherit = "base"

    def _integration_emit(self, event_code, subscription_id=None):
        """Tell the subscribers of ``event_code`` about these records.

        The one API flows emit through, e.g. ``invoices._integration_emit("invoice.posted")``.
        When the caller's transaction commits, one outbound message per (subscription,
        record) is written with the record's committed state, in that transaction, and
        its delivery queued: nothing waits for the network, a record emitted several
        times in a transaction is sent once, and a transaction that rolls back emits
        nothing.
        """
        subscriptions = self.env["integration.subscription"].sudo()
        if subscription_id:  # a change trigger of one subscription (automation rule)
            subscriptions = subscriptions.browse(subscription_id).filtered("active")
        elif self:
            subscriptions = subscriptions.browse(
                subscriptions._subscription_ids(self._name, event_code)
            )
        if self and subscriptions:
            subscriptions._emit(self)

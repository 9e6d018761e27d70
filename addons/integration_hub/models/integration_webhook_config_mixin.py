from odoo import api, models


class IntegrationWebhookConfigMixin(models.AbstractModel):
    """Configuration the webhook controller caches per worker (see _webhook_profile).

    Any change to such a record clears the caches of every worker, through Odoo's
    registry signaling, so the next webhook reads the new configuration.
    """

    _name = "integration.webhook.config.mixin"
    _description = "Integration Webhook Configuration"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

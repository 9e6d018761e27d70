from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from .. import crypto, signatures


class IntegrationEndpointSecret(models.Model):
    _name = "integration.endpoint.secret"
    _description = "Integration Endpoint Key"
    _inherit = ["integration.webhook.config.mixin"]
    _order = "create_date desc, id desc"

    endpoint_id = fields.Many2one("integration.endpoint", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="endpoint_id.company_id", store=True)
    name = fields.Char(string="Label", required=True, default="Key")
    scheme = fields.Selection(
        [
            (signatures.SCHEME_HMAC, "v1 — HMAC-SHA256 (whsec_ secret)"),
            (signatures.SCHEME_ED25519, "v1a — Ed25519 (whpk_ public key)"),
            (signatures.SCHEME_BEARER, "Bearer token (for senders that cannot sign)"),
        ],
        required=True,
        default=signatures.SCHEME_HMAC,
    )
    secret = fields.Char(
        compute="_compute_secret",
        inverse="_inverse_secret",
        string="Key",
        help="Write-only: the key is encrypted when saved and never shown again.",
    )
    secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    hint = fields.Char(readonly=True, copy=False, help="Last characters of the key.")
    active = fields.Boolean(default=True)
    expire_date = fields.Datetime(
        string="Accept until", help="Rotation: the key stops being accepted after this."
    )

    def _compute_secret(self):
        self.secret = False

    def _inverse_secret(self):
        keys = config.get(crypto.CONFIG_OPTION)
        for record in self:
            if not record.secret:
                continue
            value = record.secret.strip()
            try:
                signatures.check_key(record.scheme, value)
                encrypted = crypto.encrypt(keys, value)
            except crypto.EncryptionKeyError as exc:
                raise UserError(str(exc)) from exc
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "The key %(name)s is not usable: %(error)s", name=record.name, error=exc
                    )
                ) from exc
            record.sudo().write({"secret_encrypted": encrypted, "hint": "…" + value[-4:]})

    @api.constrains("secret_encrypted")
    def _check_secret_set(self):
        for record in self.sudo():
            if not record.secret_encrypted:
                raise ValidationError(self.env._("Enter the key of %(name)s.", name=record.name))

    def _decrypted(self):
        self.ensure_one()
        return crypto.decrypt(config.get(crypto.CONFIG_OPTION), self.sudo().secret_encrypted)

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from .. import review
from ..exceptions import ReviewRequiredError


class IntegrationReviewRule(models.Model):
    """A limit on a number of an inbound event's data: over it, the message waits for a
    person's review (an exception of kind 'review') instead of being processed."""

    _name = "integration.review.rule"
    _description = "Integration Review Rule"
    # Rules are read per message through a cache that any change clears.
    _inherit = ["integration.webhook.config.mixin"]
    _order = "event_type_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    event_type_id = fields.Many2one(
        "integration.event.type",
        required=True,
        ondelete="cascade",
        domain=[("direction", "=", "in")],
    )
    backend_id = fields.Many2one(
        "integration.backend",
        ondelete="cascade",
        domain="[('company_id', '=', company_id)]",
        help="Empty: the messages of every backend of the company.",
    )
    field_path = fields.Char(
        string="Field",
        required=True,
        help="Dotted path of a number in the event's data, e.g. quantity or lines.amount "
        "(every item of a list is checked).",
    )
    maximum = fields.Float(
        digits=(16, 4), help="A larger value needs a review; 0: no absolute maximum."
    )
    usual_factor = fields.Float(
        string="Times the usual value",
        digits=(16, 2),
        help="A value over this many times the usual one needs a review; 0: not used. "
        "The flow says what is usual: an item's usual consumption, a service's list price.",
    )

    _sql_constraints = [
        ("maximum_positive", "CHECK(maximum >= 0)", "A review maximum cannot be negative."),
        (
            "usual_factor_positive",
            "CHECK(usual_factor >= 0)",
            "The factor of the usual value cannot be negative.",
        ),
    ]

    @api.constrains("maximum", "usual_factor", "field_path")
    def _check_limit(self):
        for rule in self:
            if not rule.maximum and not rule.usual_factor:
                raise ValidationError(
                    self.env._(
                        "Review rule %(rule)s needs a maximum or a factor of the usual value.",
                        rule=rule.name,
                    )
                )
            if any(not part.strip() for part in (rule.field_path or "").split(".")):
                raise ValidationError(
                    self.env._(
                        "Review rule %(rule)s: '%(path)s' is not a dotted field path.",
                        rule=rule.name,
                        path=rule.field_path,
                    )
                )

    @api.model
    @tools.ormcache("event_type_id")
    def _rule_ids_for(self, event_type_id):
        return tuple(self.sudo().search([("event_type_id", "=", event_type_id)]).ids)

    @api.model
    def _check_message(self, message, data):
        """Raise ReviewRequiredError when a number of ``data`` is over a rule's limit;
        the rules a person approved for this message are skipped."""
        rule_ids = self._rule_ids_for(message.event_type_id.id)
        if not rule_ids:
            return
        rules = (
            self.sudo()
            .browse(rule_ids)
            .filtered(
                lambda r: (
                    r.company_id == message.company_id
                    and (not r.backend_id or r.backend_id == message.backend_id)
                )
            )
        )
        rules -= message.sudo().review_bypass_rule_ids
        handler = message.event_type_id._handler()
        for rule in rules:
            values = review.values_at(data, rule.field_path)
            if not values:
                continue
            usual = None
            if rule.usual_factor:
                usual = handler._review_usual_value(message, data, rule.field_path)
            found = review.over_limit(values, rule.maximum, rule.usual_factor, usual)
            if found:
                raise ReviewRequiredError(rule.id, rule._explain(*found, usual=usual))

    def _explain(self, value, bound, usual=None):
        """Why the message waits: the field, its value and the limit, no other data."""
        self.ensure_one()
        relative = review.limit(factor=self.usual_factor, usual=usual)
        if relative is not None and relative == bound:
            reason = self.env._(
                "over %(factor)s times its usual value %(usual)s",
                factor=review.format_number(self.usual_factor),
                usual=review.format_number(usual),
            )
        else:
            reason = self.env._("over the maximum %(maximum)s", maximum=review.format_number(bound))
        return self.env._(
            '%(path)s is %(value)s, %(reason)s (review rule "%(rule)s"). Approve it to '
            "process the message as it is, or reject it to cancel the message.",
            path=self.field_path,
            value=review.format_number(value),
            reason=reason,
            rule=self.name,
        )

"""Extends integration.endpoint: the HL7 v2 senders an endpoint accepts, and their intake."""

import logging
from typing import NamedTuple

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from odoo.addons.integration_hub.exceptions import IntakeError

from .. import mapping

_security_logger = logging.getLogger("odoo.addons.integration_hub.security")


def _names(text):
    return frozenset(
        part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()
    )


class HL7Senders(NamedTuple):
    applications: frozenset  # MSH-3.1 values
    facilities: frozenset  # MSH-4.1 values

    def accepts(self, header):
        return (
            header.sending_application in self.applications
            and header.sending_facility in self.facilities
        )


class IntegrationEndpoint(models.Model):
    _inherit = "integration.endpoint"

    hl7_sending_applications = fields.Char(
        string="HL7 sending applications",
        help="MSH-3 values accepted from this endpoint's system, comma-separated "
        "(e.g. SCHED, BILLING). HL7 v2 messages from any other application are refused (AR).",
    )
    hl7_sending_facilities = fields.Char(
        string="HL7 sending facilities",
        help="MSH-4 values accepted, comma-separated (e.g. CLINIC-N). Over MLLP, the "
        "sending application and facility of a message choose its endpoint.",
    )

    @api.constrains("hl7_sending_applications", "hl7_sending_facilities")
    def _check_hl7_senders(self):
        routes = {}
        for endpoint in self.search(
            [("hl7_sending_applications", "!=", False), ("hl7_sending_facilities", "!=", False)]
        ):
            for route in endpoint._hl7_pairs():
                if route in routes and routes[route] != endpoint:
                    raise ValidationError(
                        self.env._(
                            "Endpoints %(a)s and %(b)s both accept HL7 messages from "
                            "%(app)s at %(facility)s: MLLP could not choose between them.",
                            a=routes[route].name,
                            b=endpoint.name,
                            app=route[0],
                            facility=route[1],
                        )
                    )
                routes[route] = endpoint

    def _hl7_pairs(self):
        self.ensure_one()
        return {
            (app, facility)
            for app in _names(self.hl7_sending_applications)
            for facility in _names(self.hl7_sending_facilities)
        }

    @tools.ormcache("endpoint_id")
    def _hl7_senders(self, endpoint_id):
        endpoint = self.sudo().browse(endpoint_id)
        return HL7Senders(
            _names(endpoint.hl7_sending_applications), _names(endpoint.hl7_sending_facilities)
        )

    @api.model
    @tools.ormcache()
    def _hl7_routes(self):
        """{(MSH-3, MSH-4): endpoint id} of the live endpoints that accept HL7 v2."""
        live = set(self._live_endpoint_ids().values())
        endpoints = (
            self.sudo()
            .browse(sorted(live))
            .filtered(lambda e: e.hl7_sending_applications and e.hl7_sending_facilities)
        )
        return {pair: endpoint.id for endpoint in endpoints for pair in endpoint._hl7_pairs()}

    @api.model
    def _hl7_check_sender(self, profile, header, remote_addr):
        """Refuse (403) a message whose MSH-3/MSH-4 the endpoint does not accept."""
        if not self._hl7_senders(profile.endpoint_id).accepts(header):
            _security_logger.warning(
                "HL7 message refused: sender %s at %s not accepted by endpoint %s (remote %s)",
                header.sending_application[:64],
                header.sending_facility[:64],
                profile.endpoint_id,
                remote_addr,
            )
            raise IntakeError(
                403,
                "sender_not_allowed",
                "MSH-3/MSH-4: this sending application and facility may not use this endpoint.",
            )

    @api.model
    def _hl7_intake(self, profile, message, raw):
        """Store and queue the canonical events of one parsed HL7 message, all or none.

        ``raw`` is the message's bytes. Returns the status of each event (``queued``,
        ``ignored``, ``duplicate``); raises IntakeError (and stores nothing) when one
        is refused, e.g. the same MSH-10 with another body (409).
        """
        text = message.original
        statuses = []
        with self.env.cr.savepoint():
            for event in mapping.to_events(message, raw):
                _status, body = self._intake(
                    profile,
                    event.sender_message_id,
                    event.envelope,
                    raw_body=text,
                    source_format="hl7v2",
                    correlation_id=message.header.control_id,
                )
                statuses.append(body["status"])
        return statuses

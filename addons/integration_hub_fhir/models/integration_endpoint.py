"""Extends integration.endpoint: what a FHIR sender's resources mean to this endpoint."""

from odoo import fields, models, tools

from ..mapping import MappingConfig

FHIR_RESOURCE_TYPES = (
    "Patient,Organization,Coverage,Encounter,Appointment,ChargeItem,"
    "PaymentReconciliation,ClaimResponse"
)


class IntegrationEndpoint(models.Model):
    _inherit = "integration.endpoint"

    fhir_resource_types = fields.Char(
        string="FHIR resource types",
        default=FHIR_RESOURCE_TYPES,
        help="FHIR resource types taken at /integration/fhir/<token>, comma-separated; "
        "others are answered 422 with an OperationOutcome.",
    )
    fhir_patient_identifier_system = fields.Char(
        string="Patient identifier system",
        help="The Patient identifier whose system this is gives the patient's id "
        "(else the resource id), e.g. the MRN system.",
    )
    fhir_payer_identifier_system = fields.Char(
        string="Payer identifier system",
        help="The insurer Organization identifier of this system is the payer code.",
    )
    fhir_location_identifier_system = fields.Char(string="Location identifier system")
    fhir_patient_share_url = fields.Char(
        string="Patient share extension",
        help="URL of the ChargeItem extension (valueMoney) carrying the patient's share.",
    )
    fhir_payer_share_url = fields.Char(
        string="Payer share extension",
        help="URL of the ChargeItem extension (valueMoney) carrying the payer's share.",
    )

    @tools.ormcache("endpoint_id")
    def _fhir_profile(self, endpoint_id):
        """(mapping configuration, accepted resource types) of an endpoint, cached."""
        endpoint = self.sudo().browse(endpoint_id)
        config = MappingConfig(
            patient_identifier_system=endpoint.fhir_patient_identifier_system or "",
            payer_identifier_system=endpoint.fhir_payer_identifier_system or "",
            location_identifier_system=endpoint.fhir_location_identifier_system or "",
            patient_share_url=endpoint.fhir_patient_share_url or "",
            payer_share_url=endpoint.fhir_payer_share_url or "",
        )
        types = frozenset(
            part.strip() for part in (endpoint.fhir_resource_types or "").split(",") if part.strip()
        )
        return config, types

    def _fhir_unit_price(self, backend_id, service_code):
        """The list price of the product a service code maps to, as a decimal string."""
        backend = self.env["integration.backend"].browse(backend_id)
        record = self.env["integration.code.map"]._lookup(backend, "service", service_code)
        if record and record._name == "product.template":
            record = record.product_variant_id
        if not record or record._name != "product.product":
            return None
        return f"{record.lst_price:f}"

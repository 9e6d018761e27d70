from . import (
    integration_endpoint,
    integration_handler_charge,
    integration_handler_charge_cancel,
    integration_handler_coverage,
    integration_message,
    integration_serializer_fhir,
    integration_subscription,
    res_partner,
)

from . import integration_hub_fhir

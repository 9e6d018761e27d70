from . import integration_hub_hl7

from . import integration_hub

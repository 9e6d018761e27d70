from . import json_dispatcher, integration_hub

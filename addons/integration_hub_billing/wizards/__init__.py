from . import integration_map_code_wizard

from . import integration_supply_map_code

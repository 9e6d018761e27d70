from . import integration_code_map_wizard, integration_message_bulk
from . import integration_issue_confirm

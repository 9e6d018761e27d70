from . import integration_message_bulk

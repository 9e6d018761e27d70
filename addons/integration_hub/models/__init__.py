from . import (
    integration_backend,
    integration_binding,
    integration_code_map,
    integration_domain,
    integration_endpoint,
    integration_endpoint_secret,
    integration_event_type,
    integration_exception,
    integration_handler,
    integration_handler_contact,
    integration_message,
    integration_message_attempt,
)

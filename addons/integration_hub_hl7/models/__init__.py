from . import integration_endpoint
from . import integration_handler_patient_merge
from . import integration_message

from . import test_intake, test_outbound, test_processing, test_pure, test_security, test_webhook
from . import test_backend_access

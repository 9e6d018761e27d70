from . import test_outbound, test_processing, test_pure, test_security, test_webhook

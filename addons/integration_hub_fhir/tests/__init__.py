from . import test_controller, test_handlers, test_mapping, test_outbound

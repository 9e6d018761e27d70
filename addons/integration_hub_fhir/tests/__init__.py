from . import test_handlers, test_mapping, test_outbound

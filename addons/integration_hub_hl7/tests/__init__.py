from . import test_flow, test_hl7v2, test_http, test_mapping, test_mllp

from . import test_demo, test_demo_billing

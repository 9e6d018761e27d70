from . import (
    test_charges,
    test_events,
    test_finance_ui,
    test_outbound_billing,
    test_payments,
    test_review,
    test_tour,
)

from . import (
    test_charges,
    test_events,
    test_finance_ui,
    test_issue_fix,
    test_outbound_billing,
    test_patient_access,
    test_payments,
    test_review,
    test_tour,
)

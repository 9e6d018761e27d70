from . import (
    test_access_matrix,
    test_demo,
    test_demo_billing,
    test_demo_fhir,
    test_demo_hl7,
    test_demo_review,
    test_demo_supply,
    test_demo_workforce,
    test_role_tours,
)

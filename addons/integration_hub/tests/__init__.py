from . import (
    test_backend_access,
    test_bulk,
    test_echo,
    test_intake,
    test_operations,
    test_outbound,
    test_overview,
    test_processing,
    test_pure,
    test_retention,
    test_security,
    test_webhook,
)

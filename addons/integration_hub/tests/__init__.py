from . import (
    test_echo,
    test_intake,
    test_outbound,
    test_processing,
    test_pure,
    test_security,
    test_webhook,
)

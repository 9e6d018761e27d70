from decimal import Decimal

from odoo.tests import BaseCase, tagged

from ..amounts import parse_decimal


@tagged("post_install", "-at_install")
class TestAmounts(BaseCase):
    def test_decimal_strings_and_integers_are_exact(self):
        self.assertEqual(parse_decimal("120.00"), Decimal("120.00"))
        self.assertEqual(parse_decimal("0.1"), Decimal("0.1"))
        self.assertEqual(parse_decimal(3), Decimal(3))
        self.assertEqual(parse_decimal(" 7.5 "), Decimal("7.5"))

    def test_non_numbers_floats_and_booleans_are_refused_with_the_reason(self):
        for value in ("12,00", "", "abc", "1e3", "NaN", "Infinity", 12.5, True, None, [], "1.2.3"):
            with self.subTest(value=value), self.assertRaises(ValueError) as caught:
                parse_decimal(value)
            self.assertIn(repr(value), str(caught.exception))

    def test_minimum_is_enforced(self):
        with self.assertRaisesRegex(ValueError, "below 0"):
            parse_decimal("-1.00", minimum=Decimal(0))
        self.assertEqual(parse_decimal("0", minimum=Decimal(0)), Decimal(0))

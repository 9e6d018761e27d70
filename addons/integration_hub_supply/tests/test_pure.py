from decimal import Decimal

from odoo.tests import BaseCase, tagged

from ..quantities import parse_decimal


@tagged("post_install", "-at_install")
class TestParseDecimal(BaseCase):
    def test_decimal_strings_parse_exactly(self):
        self.assertEqual(parse_decimal("0.09"), Decimal("0.09"))
        self.assertEqual(parse_decimal(" 400 "), Decimal("400"))
        self.assertEqual(parse_decimal("1E+2"), Decimal("100"))
        self.assertEqual(parse_decimal(3), Decimal("3"))
        self.assertEqual(parse_decimal("0"), Decimal("0"))

    def test_non_numbers_are_refused_with_a_reason(self):
        for value in ("abc", "", "1,5", "NaN", "Infinity", "-Infinity", None, True, [1], 1.5):
            with self.subTest(value=value), self.assertRaisesRegex(ValueError, "decimal number"):
                parse_decimal(value)

    def test_negative_too_large_and_zero_when_forbidden(self):
        with self.assertRaisesRegex(ValueError, "negative"):
            parse_decimal("-1")
        with self.assertRaisesRegex(ValueError, "too large"):
            parse_decimal("1e12")
        with self.assertRaisesRegex(ValueError, "greater than zero"):
            parse_decimal("0.000", allow_zero=False)

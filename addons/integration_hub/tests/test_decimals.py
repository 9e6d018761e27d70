import jsonschema

from odoo.tests import BaseCase, tagged

from ..decimals import DECIMAL_URN, SIGNED_DECIMAL_URN, DecimalError, parse_decimal
from ..models.integration_event_type import SHARED_DEFINITIONS


@tagged("post_install", "-at_install")
class TestParseDecimal(BaseCase):
    def test_plain_decimal_strings_are_exact(self):
        self.assertEqual(str(parse_decimal("120.00", "data/amount")), "120.00")
        self.assertEqual(str(parse_decimal("0.1", "q")), "0.1")
        self.assertEqual(str(parse_decimal("7", "q")), "7")
        self.assertEqual(str(parse_decimal("999999999999999.9999", "q")), "999999999999999.9999")

    def test_refused_syntax_names_the_field_path(self):
        for value in (
            "1e3",
            "1E3",
            "1_000",
            "1,000.00",
            "1 000",
            " 1",
            "+1",
            ".5",
            "5.",
            "",
            "NaN",
            "Infinity",
            "0x10",
            "12\n",
            "١٢",  # digits of another script
        ):
            with self.subTest(value=value), self.assertRaises(DecimalError) as caught:
                parse_decimal(value, "data/lines/0/quantity")
            self.assertEqual(caught.exception.path, "data/lines/0/quantity")
            self.assertTrue(str(caught.exception).startswith("data/lines/0/quantity: "))

    def test_numbers_and_other_types_are_refused(self):
        for value in (12.5, 12, True, None, ["1"], {"v": "1"}):
            with self.subTest(value=value), self.assertRaises(DecimalError):
                parse_decimal(value, "data/amount")

    def test_digit_and_decimal_limits_per_field(self):
        with self.assertRaisesRegex(DecimalError, "more than 4 decimals"):
            parse_decimal("0.12345", "data/price")
        self.assertEqual(str(parse_decimal("0.123456", "p", max_decimals=6)), "0.123456")
        with self.assertRaisesRegex(DecimalError, "more than 15 digits"):
            parse_decimal("1" * 16, "data/amount")
        with self.assertRaisesRegex(DecimalError, "more than 3 digits"):
            parse_decimal("1000", "data/quantity", max_digits=3)

    def test_negative_only_where_the_field_allows_it(self):
        with self.assertRaisesRegex(DecimalError, "must not be negative"):
            parse_decimal("-5.00", "data/amount")
        self.assertEqual(
            str(parse_decimal("-5.00", "data/adjustment", allow_negative=True)), "-5.00"
        )
        self.assertEqual(parse_decimal("-0", "data/amount"), 0)

    def test_shared_schema_definitions_accept_what_parse_decimal_accepts(self):
        schema = {
            "type": "object",
            "properties": {
                "amount": {"$ref": DECIMAL_URN},
                "adjustment": {"$ref": SIGNED_DECIMAL_URN},
            },
        }
        validator = jsonschema.Draft202012Validator(schema, registry=SHARED_DEFINITIONS)
        for value in (
            "0",
            "120.00",
            "999999999999999.9999",
            "1e3",
            "1_000",
            "0.12345",
            "-1",
            1,
            1.5,
        ):
            with self.subTest(value=value):
                try:
                    parse_decimal(value, "amount")
                    parsed = True
                except DecimalError:
                    parsed = False
                self.assertEqual(validator.is_valid({"amount": value}), parsed)
        self.assertTrue(validator.is_valid({"adjustment": "-12.50"}))
        self.assertFalse(validator.is_valid({"adjustment": "-1e2"}))
        errors = list(validator.iter_errors({"amount": "1e3"}))
        self.assertEqual([list(e.absolute_path) for e in errors], [["amount"]])

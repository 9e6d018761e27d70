from datetime import UTC, datetime

from odoo.tests import BaseCase, tagged

from .. import hl7v2
from .common import message, sample

PID = "PID|1||PAT-1^^^CLINIC^MR||Doe^Jane"


@tagged("post_install", "-at_install")
class TestParsing(BaseCase):
    def test_sample_header_gives_type_trigger_control_id_and_sender(self):
        parsed = hl7v2.parse(sample("DFT_P03.hl7"))
        header = parsed.header
        self.assertEqual(parsed.kind, "DFT^P03")
        self.assertEqual(header.control_id, "DFT-9001-1")
        self.assertEqual(
            (header.sending_application, header.sending_facility), ("BILLING", "CLINIC-N")
        )
        self.assertEqual(header.version, "2.5.1")

    def test_separators_are_taken_from_msh1_and_msh2(self):
        raw = (
            b"MSH#$*!@#SCHED#CLINIC-N#ODOO#HUB#20261121085800##ADT$A04#C-1#P#2.5.1\r"
            b"PID#1##PAT-1$$$CLINIC*PAT-2##Doe$Jane@Mary\r"
        )
        parsed = hl7v2.parse(raw)
        pid = parsed.first("PID")
        self.assertEqual(parsed.kind, "ADT^A04")
        self.assertEqual(pid.get(3), "PAT-1")
        self.assertEqual(pid.get(3, 1, 2), "PAT-2")
        self.assertEqual(pid.get(5, 2), "Jane")
        self.assertEqual(pid.get(5, 2, 1, 2), "Mary")
        self.assertEqual(pid.repetitions(3), 2)

    def test_escape_sequences_are_unescaped(self):
        parsed = hl7v2.parse(message(r"PID|1||P-1||Do\F\e\S\x\T\y\R\z\E\w^Jane"))
        self.assertEqual(parsed.first("PID").get(5), "Do|e^x&y~z\\w")

    def test_lf_and_crlf_segment_endings_parse_like_cr(self):
        raw = sample("ADT_A04.hl7")
        expected = hl7v2.parse(raw).first("PID").get(13, 4, 2)
        for ending in (b"\n", b"\r\n"):
            with self.subTest(ending=ending):
                parsed = hl7v2.parse(raw.replace(b"\r", ending))
                self.assertEqual(parsed.first("PID").get(13, 4, 2), expected)
                self.assertEqual(len(parsed.segments("IN1")), 1)

    def test_msh18_iso_8859_1_is_decoded(self):
        raw = message("PID|1||P-1||Müller^Zoë", charset="8859/1")
        self.assertIn("Müller".encode("iso-8859-1"), raw)
        parsed = hl7v2.parse(raw)
        self.assertEqual(parsed.first("PID").get(5), "Müller")
        self.assertEqual(parsed.header.charset, "8859/1")

    def test_msh18_utf8_is_decoded(self):
        parsed = hl7v2.parse(message("PID|1||P-1||Müller^Zoë", charset="UNICODE UTF-8"))
        self.assertEqual(parsed.first("PID").get(5, 2), "Zoë")

    def test_bytes_invalid_in_the_declared_charset_are_refused(self):
        raw = message("PID|1||P-1||M\xfcller", charset="8859/1").replace(
            b"8859/1", b"UNICODE UTF-8"
        )
        with self.assertRaises(hl7v2.HL7Error) as caught:
            hl7v2.parse(raw)
        self.assertEqual(caught.exception.code, hl7v2.ERR_DATA_TYPE)
        self.assertEqual(caught.exception.location, ("MSH", 1, 18))
        self.assertNotIn("ller", caught.exception.message)

    def test_unknown_charset_is_refused_as_table_value(self):
        with self.assertRaises(hl7v2.HL7Error) as caught:
            hl7v2.parse(message(PID, charset="ISO IR87"))
        self.assertEqual(caught.exception.code, hl7v2.ERR_TABLE_VALUE)

    def test_z_segments_and_unknown_segments_are_kept_apart(self):
        parsed = hl7v2.parse(message("ZPI|1|secret^x", PID, "XYZ|2"))
        self.assertEqual(parsed.first("PID").get(3), "PAT-1")
        self.assertEqual(parsed.first("ZPI").get(2), "secret")

    def test_message_without_msh_is_refused(self):
        for raw in (b"PID|1||P-1\r", b"", b"\x0b\x00\xff\xfe garbage", b"MSH"):
            with self.subTest(raw=raw), self.assertRaises(hl7v2.HL7Error) as caught:
                hl7v2.parse(raw)
            self.assertIn(caught.exception.code, (hl7v2.ERR_SEGMENT_SEQUENCE, hl7v2.ERR_DATA_TYPE))

    def test_msh_with_alphanumeric_or_repeated_separators_is_refused(self):
        for msh in (b"MSH|^~\\^|A|B", b"MSH|a~\\&|A|B", b"MSH|^~|A|B"):
            with self.subTest(msh=msh), self.assertRaises(hl7v2.HL7Error):
                hl7v2.parse(msh + b"|C|D|20261121||ADT^A04|X|P|2.5.1\r")

    def test_missing_control_id_or_message_type_is_refused(self):
        cases = {
            "MSH-10": b"MSH|^~\\&|A|B|C|D|20261121||ADT^A04||P|2.5.1\r",
            "MSH-9": b"MSH|^~\\&|A|B|C|D|20261121||ADT|X-1|P|2.5.1\r",
        }
        for path, raw in cases.items():
            with self.subTest(path=path), self.assertRaises(hl7v2.HL7Error) as caught:
                hl7v2.parse(raw)
            self.assertEqual(caught.exception.code, hl7v2.ERR_REQUIRED_FIELD)
            self.assertIn(path, caught.exception.message)

    def test_nul_bytes_are_refused(self):
        with self.assertRaises(hl7v2.HL7Error):
            hl7v2.parse(message("PID|1||P\x00-1"))

    def test_timestamps_with_offsets_become_utc(self):
        self.assertEqual(
            hl7v2.iso_datetime("202611210800-0500", "SCH-11.4"), "2026-11-21T13:00:00Z"
        )
        self.assertEqual(hl7v2.iso_datetime("20261121080000", "X"), "2026-11-21T08:00:00Z")
        self.assertEqual(hl7v2.iso_date("20261121", "FT1-4"), "2026-11-21")
        for bad in ("2026-11-21", "20261341", "yesterday"):
            with self.subTest(bad=bad), self.assertRaises(hl7v2.HL7Error) as caught:
                hl7v2.iso_datetime(bad, "SCH-11.4")
            self.assertEqual(caught.exception.location, ("SCH", 1, 11))


@tagged("post_install", "-at_install")
class TestAcknowledgements(BaseCase):
    def test_accept_ack_echoes_control_id_and_swaps_sender_and_receiver(self):
        parsed = hl7v2.parse(sample("SIU_S12.hl7"))
        now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
        ack = hl7v2.build_ack("AA", parsed.header, separators=parsed.separators, now=now)
        msh, msa = ack.rstrip("\r").split("\r")
        fields = msh.split("|")
        self.assertEqual(fields[2:7], ["ODOO", "HUB", "SCHED", "CLINIC-N", "20261121090000"])
        self.assertEqual(fields[8], "ACK^S12^ACK")
        self.assertEqual(msa, "MSA|AA|SIU-5001-1|")
        self.assertEqual(hl7v2.parse_ack(ack), ("AA", "SIU-5001-1", "", ""))

    def test_reject_ack_carries_err_with_code_location_and_escaped_text(self):
        parsed = hl7v2.parse(sample("DFT_P03.hl7"))
        error = hl7v2.HL7Error("FT1-11 is not a decimal | amount", "102", ("FT1", 1, 11))
        ack = hl7v2.build_ack(
            "AR", parsed.header, separators=parsed.separators, text=error.message, error=error
        )
        err = ack.rstrip("\r").split("\r")[2]
        self.assertTrue(err.startswith("ERR||FT1^1^11|102^Data type error^HL70357|E|"), err)
        self.assertIn(r"decimal \F\ amount", err)
        code, control_id, text, err_code = hl7v2.parse_ack(ack)
        self.assertEqual((code, control_id, err_code), ("AR", "DFT-9001-1", "102"))
        self.assertEqual(text, "FT1-11 is not a decimal | amount")

    def test_ack_of_an_unparsable_message_uses_what_could_be_read(self):
        raw = b"MSH|^~\\&|A|B|C|D|20261121||ADT^A04|CTRL-9|P|2.5.1||||||KOI8\r"
        separators, control_id, _charset = hl7v2.sniff(raw)
        with self.assertRaises(hl7v2.HL7Error) as caught:
            hl7v2.parse(raw)
        ack = hl7v2.build_ack(
            "AR", separators=separators, control_id=control_id, error=caught.exception
        )
        self.assertEqual(hl7v2.parse_ack(ack)[:2], ("AR", "CTRL-9"))
        self.assertEqual(hl7v2.sniff(b"\xff\xfe garbage"), (hl7v2.DEFAULT_SEPARATORS, "", ""))

    def test_ack_keeps_the_message_charset(self):
        parsed = hl7v2.parse(message(PID, charset="8859/1"))
        ack = hl7v2.build_ack("AA", parsed.header, separators=parsed.separators, text="reçu")
        data = hl7v2.encode(ack, parsed.header.charset)
        self.assertIn("reçu".encode("iso-8859-1"), data)
        self.assertIn(b"|8859/1\r", data)

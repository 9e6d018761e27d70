from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.integration_hub.models.integration_event_type import validation_errors

from .. import hl7v2, mapping
from .common import SAMPLE_NAMES, message, sample

DFT_HEADER = "MSH|^~\\&|BILLING|CLINIC-N|ODOO|HUB|20261121090000||DFT^P03^DFT_P03|DFT-1|P|2.5.1"
PID = "PID|1||PAT-1^^^CLINIC^MR||Doe^Jane"


def events_of(raw):
    return mapping.to_events(hl7v2.parse(raw), raw)


def dft(*ft1s, in1="IN1|1|PLAN-01|PAY-ACME|Acme Health Insurance"):
    segments = [DFT_HEADER, PID, "PV1|1|O|CLINIC-N||||||||||||||||APT-1", *ft1s]
    if in1:
        segments.append(in1)
    return ("\r".join(segments) + "\r").encode()


def ft1(
    *, set_id="1", txn="CHG-1", kind="CG", quantity="1", extended="120.00&USD", unit="", payer=""
):
    fields = [""] * 26
    fields[0] = "FT1"
    fields[1] = set_id
    fields[2] = txn
    fields[4] = "20261121"
    fields[6] = kind
    fields[7] = "99213^Office visit^CPT"
    fields[10] = quantity
    fields[11] = extended
    fields[12] = unit
    fields[15] = payer
    return "|".join(fields)


@tagged("post_install", "-at_install")
class TestSampleMapping(BaseCase):
    def test_adt_a04_gives_the_patient_and_its_payer(self):
        patient, payer = events_of(sample("ADT_A04.hl7"))
        self.assertEqual(patient.sender_message_id, "ADT-000123-1/patient")
        self.assertEqual(patient.type, "patient.upserted")
        self.assertEqual(
            patient.data,
            {
                "id": "PAT-000123",
                "name": "Jane Doe",
                "email": "jane.doe@example.org",
                "phone": "+1 555 0142",
                "street": "4 Elm Street",
                "city": "Springfield",
                "zip": "62704",
                "country_code": "US",
                "updated_at": "2026-11-21T08:58:00Z",
            },
        )
        self.assertNotIn("birth", str(patient.envelope))
        self.assertEqual(payer.sender_message_id, "ADT-000123-1/payer/PAY-ACME")
        self.assertEqual(payer.type, "payer.upserted")
        self.assertEqual(payer.data["name"], "Acme Health Insurance")

    def test_siu_s12_gives_a_scheduled_appointment(self):
        (event,) = events_of(sample("SIU_S12.hl7"))
        self.assertEqual(event.sender_message_id, "SIU-5001-1/appointment")
        self.assertEqual(event.type, "appointment.scheduled")
        self.assertEqual(
            event.data,
            {
                "id": "APT-5001",
                "patient_id": "PAT-000123",
                "provider_id": "PRV-77",
                "location_code": "CLINIC-N",
                "service_code": "99213",
                "start": "2026-11-21T08:00:00Z",
                "end": "2026-11-21T08:20:00Z",
                "status": "scheduled",
                "reason": "New booking",
                "updated_at": "2026-11-20T07:00:00Z",
            },
        )

    def test_siu_s14_with_complete_status_gives_a_completed_appointment(self):
        (event,) = events_of(sample("SIU_S14_completed.hl7"))
        self.assertEqual(event.type, "appointment.completed")
        self.assertEqual(event.data["status"], "completed")
        self.assertEqual(event.data["updated_at"], "2026-11-21T08:21:00Z")
        still_booked = sample("SIU_S14_completed.hl7").replace(b"|Complete\r", b"|Booked\r")
        self.assertEqual(events_of(still_booked)[0].type, "appointment.rescheduled")

    def test_siu_s15_gives_a_cancelled_appointment_with_reason(self):
        (event,) = events_of(sample("SIU_S15_cancelled.hl7"))
        self.assertEqual(event.type, "appointment.cancelled")
        self.assertEqual((event.data["id"], event.data["reason"]), ("APT-5002", "Patient request"))
        self.assertNotIn("provider_id", event.data)

    def test_siu_s26_gives_a_no_show_and_placer_id_stands_in_for_filler_id(self):
        raw = (
            sample("SIU_S12.hl7")
            .replace(b"SIU^S12^", b"SIU^S26^")
            .replace(b"SCH|APT-5001|APT-5001|", b"SCH|APT-7||")
        )
        (event,) = events_of(raw)
        self.assertEqual((event.type, event.data["id"]), ("appointment.no_show", "APT-7"))

    def test_dft_p03_gives_the_payer_and_a_charge_per_ft1(self):
        payer, charge = events_of(sample("DFT_P03.hl7"))
        self.assertEqual(payer.type, "payer.upserted")
        self.assertEqual(charge.sender_message_id, "DFT-9001-1/FT1/CHG-9001")
        self.assertEqual(
            charge.data,
            {
                "id": "CHG-9001",
                "encounter_id": "APT-5001",
                "patient_id": "PAT-000123",
                "payer_id": "PAY-ACME",
                "provider_id": "PRV-77",
                "service_code": "99213",
                "description": "Office visit, established patient",
                "quantity": "1",
                "unit_price": "120.00",
                "currency": "USD",
                "service_date": "2026-11-21",
                "patient_share": "20.00",
                "payer_share": "100.00",
            },
        )

    def test_events_carry_the_source_message_and_its_digest(self):
        raw = sample("DFT_P03.hl7")
        (_payer, charge) = events_of(raw)
        self.assertEqual(charge.envelope["timestamp"], "2026-11-21T09:00:00Z")
        self.assertEqual(charge.envelope["source"]["control_id"], "DFT-9001-1")
        self.assertEqual(charge.envelope["source"]["message_type"], "DFT^P03")
        other = events_of(
            raw.replace(b"PRV-77^Smith^Alex|||||99213", b"PRV-78^Smith^Alex|||||99213")
        )
        self.assertNotEqual(
            charge.envelope["source"]["sha256"], other[1].envelope["source"]["sha256"]
        )

    def test_unmapped_trigger_gives_one_event_no_endpoint_accepts(self):
        raw = sample("ADT_A04.hl7").replace(b"ADT^A04^ADT_A01", b"ADT^A01^ADT_A01")
        (event,) = events_of(raw)
        self.assertEqual(event.sender_message_id, "ADT-000123-1")
        self.assertEqual(event.type, "hl7v2.ADT_A01")
        self.assertNotIn(event.type, mapping.EVENT_TYPES)


@tagged("post_install", "-at_install")
class TestFieldMapping(BaseCase):
    def test_a40_gives_one_merge_per_pid_and_mrg_pair(self):
        raw = message("PID|1||PAT-1", "MRG|PAT-9^^^CLINIC", "PID|2||PAT-2", "MRG|PAT-8").replace(
            b"ADT^A04^ADT_A01", b"ADT^A40^ADT_A39"
        )
        events = events_of(raw)
        self.assertEqual([e.type for e in events], ["patient.merged", "patient.merged"])
        self.assertEqual(
            [(e.sender_message_id, e.data["id"], e.data["merged_id"]) for e in events],
            [("CTRL-1/merge/PAT-9", "PAT-1", "PAT-9"), ("CTRL-1/merge/PAT-8", "PAT-2", "PAT-8")],
        )

    def test_a40_without_mrg_or_merging_a_patient_into_itself_is_refused(self):
        for segments in (("PID|1||PAT-1",), ("PID|1||PAT-1", "MRG|PAT-1")):
            raw = message(*segments).replace(b"ADT^A04^ADT_A01", b"ADT^A40^ADT_A39")
            with self.subTest(segments=segments), self.assertRaises(hl7v2.HL7Error) as caught:
                events_of(raw)
            self.assertEqual(caught.exception.location[0], "MRG")

    def test_patient_phone_and_email_come_from_the_right_xtn_repetitions(self):
        raw = message(
            "PID|1||P-1~P-2||Roe^Richard^Q||||||1 Main St^Apt 2^Paris^^75001^FR||"
            "^NET^Internet^r@example.org~(555)123-4567^PRN^CP"
        )
        (event,) = events_of(raw)
        self.assertEqual(event.data["id"], "P-1")
        self.assertEqual(event.data["name"], "Richard Roe")
        self.assertEqual(event.data["email"], "r@example.org")
        self.assertEqual(event.data["phone"], "(555)123-4567")
        self.assertEqual(event.data["street"], "1 Main St, Apt 2")
        self.assertEqual(event.data["country_code"], "FR")

    def test_alpha3_country_is_left_out_rather_than_sent_wrong(self):
        (event,) = events_of(message("PID|1||P-1||Roe^Rick||||||1 Main St^^Paris^^75001^FRA"))
        self.assertNotIn("country_code", event.data)

    def test_patient_without_id_or_name_is_refused_naming_the_field(self):
        for segment, path in (("PID|1||||Doe^Jane", "PID-3"), ("PID|1||P-1||", "PID-5")):
            with self.subTest(path=path), self.assertRaises(hl7v2.HL7Error) as caught:
                events_of(message(segment))
            self.assertIn(path, caught.exception.message)
            self.assertEqual(caught.exception.code, hl7v2.ERR_REQUIRED_FIELD)

    def test_adt_without_pid_is_refused(self):
        with self.assertRaises(hl7v2.HL7Error) as caught:
            events_of(message("EVN|A04|20261121085800"))
        self.assertEqual(caught.exception.location, ("PID", 1, 1))

    def test_repeated_payer_gives_one_payer_event(self):
        raw = dft(ft1()).replace(b"Insurance\r", b"Insurance\rIN1|2|PLAN-02|PAY-ACME|Acme\r")
        types = [event.type for event in events_of(raw)]
        self.assertEqual(types, ["payer.upserted", "charge.captured"])

    def test_extended_amount_is_divided_by_quantity_into_the_unit_price(self):
        (_payer, charge) = events_of(dft(ft1(quantity="3", extended="90.00&USD", payer="60.00")))
        self.assertEqual(charge.data["quantity"], "3")
        self.assertEqual(charge.data["unit_price"], "30.00")
        self.assertEqual(
            (charge.data["payer_share"], charge.data["patient_share"]), ("60.00", "30.00")
        )

    def test_unit_amount_times_quantity_when_extended_is_absent(self):
        (_payer, charge) = events_of(dft(ft1(quantity="2", extended="", unit="45.50&EUR")))
        self.assertEqual((charge.data["unit_price"], charge.data["currency"]), ("45.50", "EUR"))
        self.assertNotIn("payer_share", charge.data)

    def test_inconsistent_or_bad_amounts_are_refused_naming_the_field(self):
        cases = {
            "FT1-11": ft1(quantity="3", extended="100.00"),
            "FT1-11 ": ft1(quantity="2", extended="100.00", unit="40.00"),
            "FT1-11  ": ft1(extended="1e3"),
            "FT1-10": ft1(quantity="0"),
            "FT1-15": ft1(payer="130.00"),
            "FT1-6": ft1(kind="PY"),
            "FT1-2": ft1(txn=""),
        }
        for path, segment in cases.items():
            with self.subTest(path=path), self.assertRaises(hl7v2.HL7Error) as caught:
                events_of(dft(segment))
            self.assertIn(path.strip(), caught.exception.message)
            self.assertEqual(caught.exception.location[0], "FT1")

    def test_second_ft1_errors_name_its_repetition(self):
        with self.assertRaises(hl7v2.HL7Error) as caught:
            events_of(dft(ft1(), ft1(set_id="2", txn="CHG-2", extended="abc")))
        self.assertIn("FT1(2)-11", caught.exception.message)
        self.assertEqual(caught.exception.location, ("FT1", 2, 11))

    def test_credit_line_becomes_a_refund_of_the_charge_in_ft1_3(self):
        credit = ft1(txn="CRD-1", kind="CD", extended="-20.00&USD").replace(
            "FT1|1|CRD-1|", "FT1|1|CRD-1|CHG-1"
        )
        (_payer, refund) = events_of(dft(credit))
        self.assertEqual(refund.type, "refund.issued")
        self.assertEqual(
            refund.data,
            {
                "id": "CRD-1",
                "charge_id": "CHG-1",
                "amount": "20.00",
                "patient_id": "PAT-1",
                "payer_id": "PAY-ACME",
                "currency": "USD",
                "date": "2026-11-21",
                "reason": "Office visit",
            },
        )


@tagged("post_install", "-at_install")
class TestEventsMatchBillingSchemas(TransactionCase):
    def test_every_sample_maps_to_events_billing_accepts(self):
        types = self.env["integration.event.type"].search([("direction", "=", "in")])
        by_code = {event_type.code: event_type for event_type in types}
        for name in SAMPLE_NAMES:
            for event in events_of(sample(name)):
                with self.subTest(sample=name, type=event.type):
                    self.assertIn(event.type, by_code)
                    self.assertEqual(
                        validation_errors(by_code[event.type]._validator(), event.data), []
                    )

    def test_every_type_the_adapter_produces_is_declared(self):
        codes = set(self.env["integration.event.type"].search([]).mapped("code"))
        self.assertLessEqual(set(mapping.EVENT_TYPES), codes)

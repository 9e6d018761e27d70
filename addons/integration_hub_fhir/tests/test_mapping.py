import copy
import json
from decimal import Decimal

from odoo.tests import BaseCase, TransactionCase, tagged

from ..mapping import BundleIndex, MappingConfig, MappingError, dedupe_key, map_resource
from ..validation import FhirError, parse_body, validate
from .samples import CONFIG_VALUES, SAMPLES, dumps, sample, sample_bytes

CONFIG = MappingConfig(**CONFIG_VALUES)
EVENTS = SAMPLES.parent / "events"
# FHIR sample -> the canonical sample that describes the same thing
SAME_AS = {
    "Patient": "patient.upserted",
    "Organization-payer": "payer.upserted",
    "Encounter": "appointment.completed",
    "ChargeItem": "charge.captured",
    "PaymentReconciliation": "payment.posted",
}


def canonical(name):
    return json.loads((EVENTS / f"{name}.json").read_text())


def same_value(left, right):
    try:
        return Decimal(str(left)) == Decimal(str(right))
    except ArithmeticError:
        return left == right


@tagged("post_install", "-at_install")
class TestValidation(BaseCase):
    def test_every_sample_parses_and_validates(self):
        for path in sorted(SAMPLES.glob("*.json")):
            with self.subTest(sample=path.name):
                resource = parse_body(path.read_bytes())
                validate(resource)
                self.assertIsInstance(resource, dict)

    def test_decimals_stay_exact(self):
        resource = parse_body(sample_bytes("ChargeItem"))
        self.assertEqual(resource["priceOverride"]["value"], Decimal("120.0"))

    def test_wrong_element_type_names_the_element(self):
        resource = sample("ChargeItem")
        resource["quantity"] = {"value": "many"}
        with self.assertRaises(FhirError) as caught:
            validate(resource)
        self.assertEqual(caught.exception.status, 400)
        outcome = caught.exception.outcome()
        self.assertEqual(outcome["resourceType"], "OperationOutcome")
        self.assertEqual(outcome["issue"][0]["expression"], ["ChargeItem.quantity.value"])

    def test_error_inside_bundle_entry_names_the_entry(self):
        bundle = sample("Bundle-transaction")
        bundle["entry"][1]["resource"]["period"] = {"start": "yesterday"}
        with self.assertRaises(FhirError) as caught:
            validate(bundle)
        self.assertEqual(
            caught.exception.issues[0].expression, "Bundle.entry[1].resource.period.start"
        )

    def test_unknown_element_is_refused(self):
        resource = sample("Patient")
        resource["favouriteColour"] = "blue"
        with self.assertRaises(FhirError) as caught:
            validate(resource)
        self.assertEqual(caught.exception.issues[0].expression, "Patient.favouriteColour")

    def test_unknown_resource_type_in_bundle_is_refused_not_crashed(self):
        bundle = sample("Bundle-transaction")
        bundle["entry"][0]["resource"] = {"resourceType": "Spaceship", "id": "x"}
        with self.assertRaises(FhirError) as caught:
            validate(bundle)
        self.assertEqual(caught.exception.code, "unknown_resource_type")
        self.assertEqual(
            caught.exception.issues[0].expression, "Bundle.entry[0].resource.resourceType"
        )

    def test_contained_resource_inside_contained_is_refused(self):
        resource = sample("ChargeItem")
        inner = {"resourceType": "Patient", "id": "deep"}
        resource["contained"] = [{"resourceType": "Patient", "id": "p", "contained": [inner]}]
        with self.assertRaises(FhirError) as caught:
            validate(resource)
        self.assertEqual(caught.exception.issues[0].expression, "ChargeItem.contained[0].contained")

    def test_bundle_of_1001_entries_is_refused(self):
        entry = {"resource": {"resourceType": "Patient", "id": "p"}}
        bundle = {"resourceType": "Bundle", "type": "batch", "entry": [entry] * 1001}
        with self.assertRaises(FhirError) as caught:
            validate(parse_body(dumps(bundle)))
        self.assertEqual(caught.exception.code, "too_many_entries")

    def test_deeply_nested_extensions_are_refused_before_validation(self):
        extension = {"url": "https://x.example/e", "valueString": "x"}
        for _level in range(200):
            extension = {"url": "https://x.example/e", "extension": [extension]}
        resource = sample("Patient")
        resource["extension"] = [extension]
        with self.assertRaises(FhirError) as caught:
            parse_body(dumps(resource))
        self.assertEqual(caught.exception.code, "too_complex")

    def test_non_utf8_body_is_refused(self):
        with self.assertRaises(FhirError) as caught:
            parse_body('{"resourceType": "Patient", "id": "é"}'.encode("latin-1"))
        self.assertEqual(caught.exception.code, "malformed_json")

    def test_json_that_is_not_a_resource_is_refused(self):
        for body in (b"[1, 2]", b'{"type": "charge.captured"}', b"not json"):
            with self.subTest(body=body), self.assertRaises(FhirError) as caught:
                parse_body(body)
            self.assertEqual(caught.exception.status, 400)


@tagged("post_install", "-at_install")
class TestMapping(BaseCase):
    def test_samples_map_to_the_same_facts_as_the_canonical_samples(self):
        for name, event_name in SAME_AS.items():
            with self.subTest(sample=name):
                event = map_resource(sample(name), CONFIG)
                expected = canonical(event_name)
                self.assertEqual(event.event_type, expected["type"])
                for key, value in event.data.items():
                    if key in expected["data"] and key != "allocations":
                        self.assertTrue(
                            same_value(value, expected["data"][key]),
                            f"{key}: {value!r} != {expected['data'][key]!r}",
                        )
                missing = set(expected["data"]) - set(event.data)
                # What FHIR carries elsewhere (Coverage) or not at all in these resources.
                self.assertLessEqual(missing, {"payer_id", "method", "updated_at"})

    def test_payment_detail_with_charge_request_is_an_allocation(self):
        event = map_resource(sample("PaymentReconciliation"), CONFIG)
        self.assertEqual(event.data["allocations"], [{"charge_id": "CHG-9001", "amount": "100.0"}])

    def test_patient_id_comes_from_configured_identifier_else_resource_id(self):
        patient = sample("Patient")
        patient["identifier"][0]["value"] = "MRN-1"
        self.assertEqual(map_resource(patient, CONFIG).data["id"], "MRN-1")
        self.assertEqual(map_resource(patient, MappingConfig()).data["id"], "PAT-000123")

    def test_patient_keeps_no_birth_date_or_gender(self):
        data = map_resource(sample("Patient"), CONFIG).data
        self.assertNotIn("birthDate", json.dumps(data))
        self.assertNotIn("1980", json.dumps(data))
        self.assertNotIn("female", json.dumps(data))

    def test_encounter_status_chooses_the_appointment_event(self):
        expected = {
            "planned": "appointment.scheduled",
            "in-progress": "appointment.scheduled",
            "finished": "appointment.completed",
            "cancelled": "appointment.cancelled",
            "entered-in-error": "appointment.cancelled",
        }
        for status, event_type in expected.items():
            encounter = sample("Encounter")
            encounter["status"] = status
            with self.subTest(status=status):
                self.assertEqual(map_resource(encounter, CONFIG).event_type, event_type)

    def test_appointment_noshow_is_no_show(self):
        appointment = {
            "resourceType": "Appointment",
            "id": "APT-7",
            "status": "noshow",
            "start": "2026-11-22T10:00:00Z",
            "participant": [
                {"actor": {"reference": "Patient/PAT-000123"}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/PRV-77"}, "status": "accepted"},
            ],
        }
        validate(appointment)
        event = map_resource(appointment, CONFIG)
        self.assertEqual(event.event_type, "appointment.no_show")
        self.assertEqual(event.data["patient_id"], "PAT-000123")
        self.assertEqual(event.data["provider_id"], "PRV-77")

    def test_organization_that_is_not_an_insurer_is_a_business_error(self):
        organization = sample("Organization-payer")
        organization["type"][0]["coding"][0]["code"] = "prov"
        with self.assertRaises(MappingError) as caught:
            map_resource(organization, CONFIG)
        self.assertEqual(caught.exception.status, 422)
        self.assertEqual(caught.exception.issues[0].expression, "Organization.type")

    def test_charge_without_price_uses_the_product_price_else_names_priceoverride(self):
        charge = sample("ChargeItem")
        del charge["priceOverride"]
        self.assertEqual(
            map_resource(charge, CONFIG, price_of={"99213": "80.00"}.get).data["unit_price"],
            "80.00",
        )
        with self.assertRaises(MappingError) as caught:
            map_resource(charge, CONFIG, price_of={}.get)
        self.assertEqual(caught.exception.issues[0].expression, "ChargeItem.priceOverride")

    def test_charge_entered_in_error_cancels_and_not_billable_is_ignored(self):
        charge = sample("ChargeItem")
        charge["status"] = "entered-in-error"
        self.assertEqual(map_resource(charge, CONFIG).event_type, "charge.cancelled")
        charge["status"] = "planned"
        self.assertTrue(map_resource(charge, CONFIG).event_type.startswith("fhir.ignored."))

    def test_reference_to_wrong_type_names_the_element(self):
        charge = sample("ChargeItem")
        charge["subject"] = {"reference": "Group/G1"}
        with self.assertRaises(MappingError) as caught:
            map_resource(charge, CONFIG)
        self.assertEqual(caught.exception.issues[0].expression, "ChargeItem.subject.reference")

    def test_bundle_references_resolve_by_full_url_and_urn_uuid(self):
        patient = sample("Patient")
        patient["identifier"][0]["value"] = "MRN-42"
        charge = sample("ChargeItem")
        charge["subject"] = {"reference": "urn:uuid:5a1a3d3e-0000-4000-8000-000000000001"}
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"fullUrl": "urn:uuid:5a1a3d3e-0000-4000-8000-000000000001", "resource": patient},
                {"fullUrl": "https://clinic.example/fhir/ChargeItem/CHG-9001", "resource": charge},
            ],
        }
        validate(parse_body(dumps(bundle)))
        index = BundleIndex(bundle)
        self.assertEqual(map_resource(charge, CONFIG, index).data["patient_id"], "MRN-42")
        charge["subject"] = {"reference": "Patient/PAT-000123"}
        self.assertEqual(map_resource(charge, CONFIG, index).data["patient_id"], "MRN-42")
        charge["subject"] = {"reference": "urn:uuid:5a1a3d3e-0000-4000-8000-00000000dead"}
        with self.assertRaises(MappingError):
            map_resource(charge, CONFIG, index)

    def test_contained_reference_resolves_and_is_not_its_own_event(self):
        charge = sample("ChargeItem")
        charge["contained"] = [
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"system": CONFIG.patient_identifier_system, "value": "MRN-C"}],
                "name": [{"family": "Doe"}],
            }
        ]
        charge["subject"] = {"reference": "#p1"}
        validate(parse_body(dumps(charge)))
        event = map_resource(charge, CONFIG)
        self.assertEqual(event.event_type, "charge.captured")
        self.assertEqual(event.data["patient_id"], "MRN-C")

    def test_coverage_names_patient_and_payer(self):
        event = map_resource(sample("Coverage"), CONFIG)
        self.assertEqual(event.event_type, "coverage.upserted")
        self.assertEqual(event.data["patient_id"], "PAT-000123")
        self.assertEqual(event.data["payer_id"], "PAY-ACME")

    def test_coverage_carries_its_payor_when_the_bundle_holds_it(self):
        coverage = sample("Coverage")
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "fullUrl": "https://clinic.example/fhir/Organization/PAY-ACME",
                    "resource": sample("Organization-payer"),
                },
                {"resource": coverage},
            ],
        }
        event = map_resource(coverage, CONFIG, BundleIndex(bundle))
        self.assertEqual(event.data["payer"]["payer_code"], "ACME01")
        self.assertEqual(event.data["payer"]["name"], "Acme Health Insurance")
        self.assertNotIn("payer", map_resource(coverage, CONFIG).data)

    def test_claim_response_takes_encounter_from_its_claim(self):
        claim = {
            "resourceType": "Claim",
            "id": "CLM-4001",
            "status": "active",
            "type": {"coding": [{"code": "professional"}]},
            "use": "claim",
            "patient": {"reference": "Patient/PAT-000123"},
            "created": "2026-11-21",
            "provider": {"reference": "Organization/CLINIC"},
            "priority": {"coding": [{"code": "normal"}]},
            "insurance": [
                {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/COV-123-ACME"}}
            ],
            "item": [
                {
                    "sequence": 1,
                    "productOrService": {"coding": [{"code": "99213"}]},
                    "encounter": [{"reference": "Encounter/APT-5001"}],
                }
            ],
        }
        response = {
            "resourceType": "ClaimResponse",
            "id": "CLR-1",
            "status": "active",
            "type": {"coding": [{"code": "professional"}]},
            "use": "claim",
            "patient": {"reference": "Patient/PAT-000123"},
            "created": "2026-11-26",
            "insurer": {"reference": "Organization/PAY-ACME"},
            "request": {"reference": "Claim/CLM-4001"},
            "outcome": "error",
            "disposition": "Claim lacks information",
        }
        bundle = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"resource": claim}, {"resource": response}],
        }
        validate(parse_body(dumps(bundle)))
        event = map_resource(response, CONFIG, BundleIndex(bundle))
        self.assertEqual(event.event_type, "claim.status_changed")
        self.assertEqual(event.data["encounter_id"], "APT-5001")
        self.assertEqual(event.data["payer_id"], "PAY-ACME")
        with self.assertRaises(MappingError):
            map_resource(response, CONFIG)

    def test_dedupe_key_is_version_else_content(self):
        patient = sample("Patient")
        self.assertEqual(dedupe_key(patient), "Patient/PAT-000123/_history/3")
        charge = sample("ChargeItem")
        key = dedupe_key(charge)
        self.assertTrue(key.startswith("ChargeItem/CHG-9001/sha256:"))
        changed = copy.deepcopy(charge)
        changed["quantity"]["value"] = 2
        self.assertNotEqual(dedupe_key(changed), key)
        self.assertEqual(dedupe_key(copy.deepcopy(charge)), key)


@tagged("post_install", "-at_install")
class TestMappedEventsMatchSchemas(TransactionCase):
    def test_every_mapped_sample_satisfies_its_event_schema(self):
        bundle = sample("Bundle-transaction")
        resources = [sample(path.stem) for path in sorted(SAMPLES.glob("*.json"))]
        resources += [entry["resource"] for entry in bundle["entry"]]
        for resource in resources:
            if resource["resourceType"] == "Bundle":
                continue
            event = map_resource(resource, CONFIG, BundleIndex(bundle))
            event_type = self.env["integration.event.type"].search(
                [("code", "=", event.event_type), ("direction", "=", "in")]
            )
            with self.subTest(resource=resource["resourceType"]):
                self.assertTrue(event_type, event.event_type)
                errors = list(event_type._validator().iter_errors(event.data))
                self.assertFalse(errors, [e.message for e in errors])

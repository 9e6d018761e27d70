"""The FHIR samples the demo ships (copies of the shared contract)."""

import json
import pathlib
from decimal import Decimal

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "integration_hub_demo" / "samples" / "fhir"

CONFIG_VALUES = {
    "patient_identifier_system": "https://clinic.example/fhir/sid/mrn",
    "payer_identifier_system": "https://clinic.example/fhir/sid/payer",
    "location_identifier_system": "https://clinic.example/fhir/sid/location",
    "patient_share_url": "https://clinic.example/fhir/StructureDefinition/patient-share",
    "payer_share_url": "https://clinic.example/fhir/StructureDefinition/payer-share",
}


def sample(name):
    """A sample resource as a dict, decimals exact."""
    return json.loads((SAMPLES / f"{name}.json").read_text(), parse_float=Decimal)


def sample_bytes(name):
    return (SAMPLES / f"{name}.json").read_bytes()


def dumps(resource):
    return json.dumps(resource, default=float).encode()

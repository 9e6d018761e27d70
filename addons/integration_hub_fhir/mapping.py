"""FHIR R4 resources into the hub's canonical events, with no ORM.

``map_resource(resource, config, index)`` returns one :class:`Event` (canonical type
and ``data``) or raises :class:`MappingError` naming the element (``expression``) a
person must fix: the controller answers it 422 with an OperationOutcome.
"""

import hashlib
import json
import re
from decimal import Decimal
from typing import NamedTuple

from .validation import FhirError, Issue

# The event of a resource the hub keeps but does not process (stored "ignored").
IGNORED_PREFIX = "fhir.ignored."


class MappingConfig(NamedTuple):
    """What an endpoint configures about its FHIR sender."""

    patient_identifier_system: str = ""
    payer_identifier_system: str = ""
    location_identifier_system: str = ""
    patient_share_url: str = ""
    payer_share_url: str = ""


class Event(NamedTuple):
    event_type: str
    data: dict
    # sender message id: Type/id/_history/version, or Type/id/sha256:<content>
    dedupe_key: str


class MappingError(FhirError):
    """A valid resource the hub cannot turn into an event (422, business rule)."""

    def __init__(self, message, expression, code="unprocessable"):
        super().__init__(422, [Issue("business-rule", code, message, expression)])


# Encounter.status -> canonical appointment event
ENCOUNTER_EVENTS = {
    "planned": "appointment.scheduled",
    "arrived": "appointment.scheduled",
    "triaged": "appointment.scheduled",
    "in-progress": "appointment.scheduled",
    "finished": "appointment.completed",
    "cancelled": "appointment.cancelled",
    "entered-in-error": "appointment.cancelled",
}
APPOINTMENT_EVENTS = {
    "proposed": "appointment.scheduled",
    "pending": "appointment.scheduled",
    "booked": "appointment.scheduled",
    "arrived": "appointment.scheduled",
    "checked-in": "appointment.scheduled",
    "waitlist": "appointment.scheduled",
    "fulfilled": "appointment.completed",
    "cancelled": "appointment.cancelled",
    "entered-in-error": "appointment.cancelled",
    "noshow": "appointment.no_show",
}
# ClaimResponse.outcome -> claim.status_changed status
CLAIM_STATUSES = {
    "queued": "submitted",
    "complete": "paid",
    "partial": "partially_paid",
    "error": "denied",
}

_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def amount(value):
    """A FHIR decimal as the canonical decimal string (no exponent)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    text = format(Decimal(value), "f")
    return text


def dedupe_key(resource):
    """The sender message id of a resource: type, id and version, else its content."""
    resource_type = resource["resourceType"]
    rid = resource.get("id")
    version = (resource.get("meta") or {}).get("versionId")
    if rid and version:
        return f"{resource_type}/{rid}/_history/{version}"[:255]
    canonical = json.dumps(resource, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{resource_type}/{rid or '-'}/sha256:{digest}"[:255]


class BundleIndex:
    """Finds the resource a reference names: contained (``#id``), a Bundle entry's
    ``fullUrl`` (also ``urn:uuid:``), or ``Type/id`` of an entry."""

    def __init__(self, bundle=None):
        self.by_url = {}
        for entry in (bundle or {}).get("entry") or ():
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            if entry.get("fullUrl"):
                self.by_url[entry["fullUrl"]] = resource
            if resource.get("id"):
                self.by_url.setdefault(f"{resource['resourceType']}/{resource['id']}", resource)

    def resolve(self, reference, container=None):
        ref = (reference or {}).get("reference") or ""
        if ref.startswith("#") and container:
            for contained in container.get("contained") or ():
                if contained.get("id") == ref[1:]:
                    return contained
            return None
        if ref in self.by_url:
            return self.by_url[ref]
        match = _REFERENCE.search(ref)
        if match:
            return self.by_url.get(f"{match.group(1)}/{match.group(2)}")
        return None


class Mapper:
    def __init__(self, config, index=None):
        self.config = config
        self.index = index or BundleIndex()

    # -- helpers -------------------------------------------------------------------
    def identifier(self, resource, system):
        for identifier in resource.get("identifier") or ():
            if system and identifier.get("system") == system and identifier.get("value"):
                return identifier["value"]
        return None

    def external_id(self, resource):
        """The id the hub binds a resource under."""
        if resource["resourceType"] == "Patient":
            found = self.identifier(resource, self.config.patient_identifier_system)
            if found:
                return found
        return resource.get("id")

    def ref_id(self, reference, expected, path, container, required=True):
        """External id of the ``expected`` resource type a Reference names."""
        if not reference:
            if required:
                raise MappingError(f"a reference to a {expected} is required", path)
            return None
        resolved = self.index.resolve(reference, container)
        if resolved is not None:
            if resolved["resourceType"] != expected:
                raise MappingError(
                    f"names a {resolved['resourceType']}, not a {expected}", f"{path}.reference"
                )
            found = self.external_id(resolved)
            if found:
                return found
            raise MappingError(f"the {expected} it names has no id", f"{path}.reference")
        match = _REFERENCE.search(reference.get("reference") or "")
        if match:
            if match.group(1) != expected:
                raise MappingError(
                    f"names a {match.group(1)}, not a {expected}", f"{path}.reference"
                )
            return match.group(2)
        if (reference.get("reference") or "").startswith(("#", "urn:")):
            raise MappingError("names a resource that is not in this message", path)
        if (reference.get("identifier") or {}).get("value"):
            return reference["identifier"]["value"]
        if required:
            raise MappingError(f"names no {expected} (reference or identifier)", path)
        return None

    @staticmethod
    def code_of(concept):
        for coding in (concept or {}).get("coding") or ():
            if coding.get("code"):
                return coding["code"], coding.get("display") or (concept or {}).get("text")
        return None, None

    @staticmethod
    def updated_at(resource, data):
        last_updated = (resource.get("meta") or {}).get("lastUpdated")
        if last_updated:
            data["updated_at"] = last_updated
        return data

    @staticmethod
    def contact(resource, data):
        for telecom in resource.get("telecom") or ():
            system, value = telecom.get("system"), telecom.get("value")
            if system == "email" and value and "email" not in data:
                data["email"] = value[:255]
            elif system == "phone" and value and "phone" not in data:
                data["phone"] = value[:64]
        return data

    @staticmethod
    def address(addresses, data, home_only=False):
        chosen = None
        for address in addresses or ():
            if address.get("use") == "home" or (not home_only and chosen is None):
                chosen = address
                if address.get("use") == "home":
                    break
        if chosen is None:
            return data
        if chosen.get("line"):
            data["street"] = ", ".join(chosen["line"])[:255]
        if chosen.get("city"):
            data["city"] = chosen["city"][:128]
        if chosen.get("postalCode"):
            data["zip"] = chosen["postalCode"][:32]
        country = chosen.get("country") or ""
        if len(country) == 2 and country.isalpha():
            data["country_code"] = country.upper()
        return data

    # -- resources -----------------------------------------------------------------
    def map(self, resource):
        resource_type = resource["resourceType"]
        method = getattr(self, f"map_{resource_type.lower()}", None)
        key = dedupe_key(resource)
        if method is None:
            raise MappingError(
                f"this endpoint does not take {resource_type} resources",
                resource_type,
                code="unsupported_resource_type",
            )
        event_type, data = method(resource)
        return Event(event_type, data, key)

    def map_patient(self, resource):
        official = None
        for name in resource.get("name") or ():
            if name.get("use") == "official" or official is None:
                official = name
                if name.get("use") == "official":
                    break
        full_name = ""
        if official:
            full_name = official.get("text") or " ".join(
                [*(official.get("given") or ()), official.get("family") or ""]
            )
        if not full_name.strip():
            raise MappingError("a patient needs a name", "Patient.name")
        pid = self.external_id(resource)
        if not pid:
            raise MappingError("a patient needs an id or identifier", "Patient.id")
        data = {"id": pid, "name": full_name.strip()[:255]}
        self.contact(resource, data)
        self.address(resource.get("address"), data, home_only=True)
        return "patient.upserted", self.updated_at(resource, data)

    def map_organization(self, resource):
        is_payer = any(
            coding.get("code") == "ins"
            for concept in resource.get("type") or ()
            for coding in concept.get("coding") or ()
        )
        if not is_payer:
            raise MappingError(
                "only insurers (Organization.type 'ins') are taken, as payers",
                "Organization.type",
            )
        return "payer.upserted", self.payer_data(resource)

    def payer_data(self, resource):
        if not resource.get("id"):
            raise MappingError("a payer needs an id", "Organization.id")
        if not resource.get("name"):
            raise MappingError("a payer needs a name", "Organization.name")
        data = {"id": resource["id"], "name": resource["name"][:255]}
        code = self.identifier(resource, self.config.payer_identifier_system)
        if code:
            data["payer_code"] = code
        self.contact(resource, data)
        self.address(resource.get("address"), data)
        return self.updated_at(resource, data)

    def map_coverage(self, resource):
        payors = resource.get("payor") or ()
        if not payors:
            raise MappingError("a coverage needs a payor", "Coverage.payor")
        payer_id = self.ref_id(payors[0], "Organization", "Coverage.payor[0]", resource)
        data = {
            "id": resource.get("id") or dedupe_key(resource),
            "patient_id": self.ref_id(
                resource.get("beneficiary"), "Patient", "Coverage.beneficiary", resource
            ),
            "payer_id": payer_id,
            "status": resource.get("status"),
        }
        if resource.get("subscriberId"):
            data["subscriber_id"] = resource["subscriberId"][:255]
        payer = self.index.resolve(payors[0], resource)
        if payer is not None and payer.get("name"):
            data["payer"] = self.payer_data(payer)
        return "coverage.upserted", self.updated_at(resource, data)

    def _appointment(self, resource, data, service, period):
        start = (period or {}).get("start")
        if not start:
            raise MappingError("a visit needs a start", f"{resource['resourceType']}.period.start")
        data["start"] = start
        if (period or {}).get("end"):
            data["end"] = period["end"]
        code, _display = self.code_of(service)
        if code:
            data["service_code"] = code
        return self.updated_at(resource, data)

    def map_encounter(self, resource):
        status = resource.get("status")
        if status not in ENCOUNTER_EVENTS:
            return f"{IGNORED_PREFIX}encounter.{status}", {"id": resource.get("id")}
        data = {
            "id": resource.get("id") or "",
            "patient_id": self.ref_id(
                resource.get("subject"), "Patient", "Encounter.subject", resource
            ),
            "status": ENCOUNTER_EVENTS[status].split(".")[1],
        }
        if not data["id"]:
            raise MappingError("an encounter needs an id", "Encounter.id")
        for n, participant in enumerate(resource.get("participant") or ()):
            individual = participant.get("individual")
            if individual:
                data["provider_id"] = self.ref_id(
                    individual, "Practitioner", f"Encounter.participant[{n}].individual", resource
                )
                break
        for location in resource.get("location") or ():
            reference = location.get("location") or {}
            code = (reference.get("identifier") or {}).get("value")
            if code is None:
                resolved = self.index.resolve(reference, resource)
                code = resolved and (
                    self.identifier(resolved, self.config.location_identifier_system)
                    or resolved.get("id")
                )
            if code:
                data["location_code"] = code
                break
        service = resource.get("serviceType")
        return ENCOUNTER_EVENTS[status], self._appointment(
            resource, data, service, resource.get("period")
        )

    def map_appointment(self, resource):
        status = resource.get("status")
        if status not in APPOINTMENT_EVENTS:
            return f"{IGNORED_PREFIX}appointment.{status}", {"id": resource.get("id")}
        data = {"id": resource.get("id") or "", "status": APPOINTMENT_EVENTS[status].split(".")[1]}
        if not data["id"]:
            raise MappingError("an appointment needs an id", "Appointment.id")
        for n, participant in enumerate(resource.get("participant") or ()):
            actor = participant.get("actor") or {}
            path = f"Appointment.participant[{n}].actor"
            resolved = self.index.resolve(actor, resource)
            kind = resolved["resourceType"] if resolved else None
            match = _REFERENCE.search(actor.get("reference") or "")
            kind = kind or (match.group(1) if match else None)
            if kind == "Patient" and "patient_id" not in data:
                data["patient_id"] = self.ref_id(actor, "Patient", path, resource)
            elif kind == "Practitioner" and "provider_id" not in data:
                data["provider_id"] = self.ref_id(actor, "Practitioner", path, resource)
            elif kind == "Location" and "location_code" not in data:
                data["location_code"] = (
                    resolved and self.identifier(resolved, self.config.location_identifier_system)
                ) or self.ref_id(actor, "Location", path, resource)
        if "patient_id" not in data:
            raise MappingError(
                "an appointment needs a Patient participant", "Appointment.participant"
            )
        if resource.get("cancelationReason"):
            _code, reason = self.code_of(resource["cancelationReason"])
            if reason:
                data["reason"] = reason[:255]
        period = {"start": resource.get("start"), "end": resource.get("end")}
        services = resource.get("serviceType") or [None]
        event_type = APPOINTMENT_EVENTS[status]
        data = self._appointment(resource, data, services[0], period)
        return event_type, data

    def _share(self, resource, url):
        for n, extension in enumerate(resource.get("extension") or ()):
            if url and extension.get("url") == url:
                money = extension.get("valueMoney") or {}
                value = amount(money.get("value"))
                if value is None:
                    raise MappingError(
                        "a share extension holds a valueMoney", f"ChargeItem.extension[{n}]"
                    )
                return value
        return None

    def map_chargeitem(self, resource, price_of=None):
        status = resource.get("status")
        rid = resource.get("id")
        if not rid:
            raise MappingError("a charge needs an id", "ChargeItem.id")
        if status == "entered-in-error":
            return "charge.cancelled", self.updated_at(resource, {"id": rid})
        if status != "billable":
            return f"{IGNORED_PREFIX}chargeitem.{status}", {"id": rid}
        code, display = self.code_of(resource.get("code"))
        if not code:
            raise MappingError("a charge needs a code", "ChargeItem.code")
        data = {
            "id": rid,
            "patient_id": self.ref_id(
                resource.get("subject"), "Patient", "ChargeItem.subject", resource
            ),
            "service_code": code,
            "quantity": amount((resource.get("quantity") or {}).get("value", 1)) or "1",
        }
        if display:
            data["description"] = display[:255]
        context = resource.get("context")
        if context:
            data["encounter_id"] = self.ref_id(context, "Encounter", "ChargeItem.context", resource)
        for n, performer in enumerate(resource.get("performer") or ()):
            if performer.get("actor"):
                data["provider_id"] = self.ref_id(
                    performer["actor"], "Practitioner", f"ChargeItem.performer[{n}].actor", resource
                )
                break
        self._charge_amounts(resource, data, price_of)
        return "charge.captured", data

    def _charge_amounts(self, resource, data, price_of):
        """Unit price (priceOverride, else the product's), currency, date and shares."""
        code = data["service_code"]
        price = resource.get("priceOverride")
        if price:
            data["unit_price"] = amount(price.get("value"))
            if price.get("currency"):
                data["currency"] = price["currency"]
        if not data.get("unit_price"):
            data["unit_price"] = price_of(code) if price_of else None
            if not data["unit_price"]:
                raise MappingError(
                    f"no priceOverride, and the service code {code} has no product price",
                    "ChargeItem.priceOverride",
                )
        occurrence = resource.get("occurrenceDateTime") or (
            resource.get("occurrencePeriod") or {}
        ).get("start")
        if occurrence:
            data["service_date"] = occurrence[:10]
        patient_share = self._share(resource, self.config.patient_share_url)
        payer_share = self._share(resource, self.config.payer_share_url)
        if patient_share is not None:
            data["patient_share"] = patient_share
        if payer_share is not None:
            data["payer_share"] = payer_share

    def map_paymentreconciliation(self, resource):
        rid = resource.get("id")
        if not rid:
            raise MappingError("a payment needs an id", "PaymentReconciliation.id")
        value = amount((resource.get("paymentAmount") or {}).get("value"))
        if value is None:
            raise MappingError(
                "a payment needs an amount", "PaymentReconciliation.paymentAmount.value"
            )
        data = {"id": rid, "amount": value, "date": resource.get("paymentDate")}
        currency = (resource.get("paymentAmount") or {}).get("currency")
        if currency:
            data["currency"] = currency
        if resource.get("paymentIssuer"):
            data["payer_id"] = self.ref_id(
                resource["paymentIssuer"],
                "Organization",
                "PaymentReconciliation.paymentIssuer",
                resource,
            )
        reference = (resource.get("paymentIdentifier") or {}).get("value")
        if reference:
            data["reference"] = reference[:255]
        allocations = []
        for n, detail in enumerate(resource.get("detail") or ()):
            if not detail.get("request"):
                continue
            path = f"PaymentReconciliation.detail[{n}]"
            share = amount((detail.get("amount") or {}).get("value"))
            if share is None:
                raise MappingError("an allocation needs an amount", f"{path}.amount")
            charge_id = self.ref_id(detail["request"], "ChargeItem", f"{path}.request", resource)
            allocations.append({"charge_id": charge_id, "amount": share})
        if allocations:
            data["allocations"] = allocations
        return "payment.posted", data

    def map_claimresponse(self, resource):
        rid = resource.get("id")
        if not rid:
            raise MappingError("a claim response needs an id", "ClaimResponse.id")
        outcome = resource.get("outcome")
        claim = self.index.resolve(resource.get("request"), resource)
        encounter = None
        if claim is not None:
            for item in claim.get("item") or ():
                for reference in item.get("encounter") or ():
                    encounter = self.ref_id(
                        reference, "Encounter", "Claim.item.encounter", claim, required=False
                    )
                    break
                if encounter:
                    break
        if not encounter:
            raise MappingError(
                "the Claim it answers, with its item's encounter, must be in the message",
                "ClaimResponse.request",
            )
        data = {
            "id": rid,
            "encounter_id": encounter,
            "payer_id": self.ref_id(
                resource.get("insurer"), "Organization", "ClaimResponse.insurer", resource
            ),
            "status": CLAIM_STATUSES.get(outcome, outcome or "submitted"),
        }
        if resource.get("disposition"):
            data["reason"] = resource["disposition"][:255]
        return "claim.status_changed", self.updated_at(resource, data)


def map_resource(resource, config, index=None, price_of=None):
    """The canonical :class:`Event` of one validated resource."""
    mapper = Mapper(config, index)
    if resource["resourceType"] == "ChargeItem":
        event_type, data = mapper.map_chargeitem(resource, price_of)
        return Event(event_type, data, dedupe_key(resource))
    return mapper.map(resource)


def bundle_resources(bundle):
    """(entry index, resource, request method) of each entry of a Bundle that holds one.

    A subscription notification's first entry is its SubscriptionStatus: skipped.
    """
    for n, entry in enumerate(bundle.get("entry") or ()):
        resource = entry.get("resource")
        method = (entry.get("request") or {}).get("method")
        if not isinstance(resource, dict):
            yield n, None, method
        elif resource.get("resourceType") in ("SubscriptionStatus", "Parameters"):
            continue
        else:
            yield n, resource, method

"""HL7 v2 messages as the hub's canonical events, with no ORM.

``to_events(message)`` returns the events one parsed message stands for, each with the
sender message id the hub deduplicates on: MSH-10 followed by what the event is about
(``ADT-1/patient``, ``DFT-7/payer/PAY-ACME``, ``DFT-7/FT1/CHG-9001``). A message type
with no mapping yields one ``hl7v2.<type>_<trigger>`` event that no endpoint accepts:
it is stored as ignored, visible and replayable.
"""

import hashlib
from typing import NamedTuple

from odoo.addons.integration_hub.decimals import MAX_DECIMALS, DecimalError, parse_decimal

from .hl7v2 import (
    ERR_DATA_TYPE,
    ERR_REQUIRED_FIELD,
    ERR_SEGMENT_SEQUENCE,
    ERR_TABLE_VALUE,
    HL7Error,
    _location,
    iso_date,
    iso_datetime,
)

PATIENT_TRIGGERS = frozenset({"A04", "A08", "A28", "A31"})
APPOINTMENT_TRIGGERS = {
    "S12": "appointment.scheduled",
    "S13": "appointment.rescheduled",
    "S14": "appointment.rescheduled",
    "S15": "appointment.cancelled",
    "S26": "appointment.no_show",
}
STATUS = {
    "appointment.scheduled": "scheduled",
    "appointment.rescheduled": "rescheduled",
    "appointment.cancelled": "cancelled",
    "appointment.no_show": "no_show",
    "appointment.completed": "completed",
}
# Every canonical event type this adapter can produce (for endpoints and tests).
EVENT_TYPES = (
    "patient.upserted",
    "payer.upserted",
    *STATUS,
    "patient.merged",
    "charge.captured",
    "refund.issued",
)
EMAIL_EQUIPMENT = frozenset({"INTERNET", "X.400"})
MAX_SENDER_ID = 255


class Event(NamedTuple):
    sender_message_id: str
    envelope: dict  # {"type", "timestamp", "data", "source"}

    @property
    def type(self):
        return self.envelope["type"]

    @property
    def data(self):
        return self.envelope["data"]


def ignored_type(message):
    return f"hl7v2.{message.header.message_type}_{message.header.trigger_event}"


def to_events(message, raw):
    """The canonical events of ``message`` (parsed from the bytes ``raw``)."""
    header = message.header
    mtype, trigger = header.message_type, header.trigger_event
    if mtype == "ADT" and trigger in PATIENT_TRIGGERS:
        events = [("patient", "patient.upserted", patient(message)), *_payers(message)]
    elif mtype == "ADT" and trigger == "A40":
        events = merges(message)
    elif mtype == "SIU" and trigger in APPOINTMENT_TRIGGERS:
        event_type, data = appointment(message)
        events = [("appointment", event_type, data)]
    elif mtype == "DFT" and trigger == "P03":
        events = [*_payers(message), *_transactions(message)]
    else:
        events = [
            (
                "",
                ignored_type(message),
                {"message_type": mtype, "trigger_event": trigger, "control_id": header.control_id},
            )
        ]
    timestamp = _message_time(message)
    source = {
        "format": "hl7v2",
        "message_type": f"{mtype}^{trigger}",
        "control_id": header.control_id,
        "sending_application": header.sending_application,
        "sending_facility": header.sending_facility,
        # Same MSH-10 with another body must not pass for a duplicate.
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    result = []
    for suffix, event_type, data in events:
        sender_id = f"{header.control_id}/{suffix}" if suffix else header.control_id
        if len(sender_id) > MAX_SENDER_ID:
            raise HL7Error(
                f"MSH-10 with the record id is longer than {MAX_SENDER_ID} characters.",
                ERR_DATA_TYPE,
                ("MSH", 1, 10),
            )
        envelope = {"type": event_type, "timestamp": timestamp, "data": data, "source": source}
        result.append(Event(sender_id, envelope))
    return result


# -- segments -----------------------------------------------------------------------


def _required(segment, field, component=1, name=None):
    value = segment.get(field, component) if segment else ""
    if not value:
        path = f"{segment.name if segment else name}-{field}"
        if component > 1:
            path += f".{component}"
        raise HL7Error(f"{path} is required.", ERR_REQUIRED_FIELD, _location(path))
    return value


def _segment(message, name, required=True):
    segment = message.first(name)
    if segment is None and required:
        raise HL7Error(
            f"The {message.kind} message has no {name} segment.",
            ERR_REQUIRED_FIELD,
            (name, 1, 1),
        )
    return segment


def _message_time(message):
    return iso_datetime(_required(message.first("MSH"), 7), "MSH-7")


def _updated_at(message):
    evn = message.first("EVN")
    if evn and evn.get(2):
        return iso_datetime(evn.get(2), "EVN-2")
    return _message_time(message)


def _patient_id(message):
    return _required(_segment(message, "PID"), 3)


def _address(segment, field):
    """street, city, zip, country_code of an XAD field."""
    street = ", ".join(part for part in (segment.get(field, 1), segment.get(field, 2)) if part)
    values = {
        "street": street,
        "city": segment.get(field, 3),
        "zip": segment.get(field, 5),
    }
    country = segment.get(field, 6).upper()
    # Table 0399 allows ISO 3166 alpha-3; the hub keeps alpha-2 and leaves others out.
    if len(country) == 2 and country.isalpha():
        values["country_code"] = country
    return {key: value for key, value in values.items() if value}


def _telecom(segment, field):
    """phone and email from the repetitions of an XTN field."""
    values = {}
    for rep in range(1, segment.repetitions(field) + 1):
        equipment = segment.get(field, 3, rep).upper()
        use = segment.get(field, 2, rep).upper()
        email = segment.get(field, 4, rep)
        if email and (equipment in EMAIL_EQUIPMENT or use == "NET"):
            values.setdefault("email", email)
            continue
        parts = [segment.get(field, 5, rep), segment.get(field, 6, rep), segment.get(field, 7, rep)]
        if parts[2]:
            number = " ".join(p for p in parts[1:] if p)
            if parts[0]:
                number = f"+{parts[0].lstrip('+')} {number}"
            ext = segment.get(field, 8, rep)
            values.setdefault("phone", f"{number} x{ext}" if ext else number)
        elif segment.get(field, 1, rep):
            values.setdefault("phone", segment.get(field, 1, rep))
    return values


def patient(message):
    """patient.upserted from PID: billing fields only, no clinical data."""
    pid = _segment(message, "PID")
    given, family = pid.get(5, 2), pid.get(5, 1)
    name = " ".join(part for part in (given, family) if part)
    if not name:
        raise HL7Error("PID-5 (patient name) is required.", ERR_REQUIRED_FIELD, ("PID", 1, 5))
    data = {"id": _patient_id(message), "name": name}
    data.update(_address(pid, 11))
    data.update(_telecom(pid, 13))
    data["updated_at"] = _updated_at(message)
    return data


def merges(message):
    """patient.merged for each PID + MRG pair of an ADT^A40: MRG-1 merges into PID-3."""
    pids, mrgs = message.segments("PID"), message.segments("MRG")
    if not mrgs:
        raise HL7Error("ADT^A40 needs an MRG segment.", ERR_REQUIRED_FIELD, ("MRG", 1, 1))
    if len(pids) != len(mrgs):
        raise HL7Error(
            "ADT^A40 needs one PID before each MRG.", ERR_SEGMENT_SEQUENCE, ("MRG", 1, 1)
        )
    events = []
    for pid, mrg in zip(pids, mrgs, strict=True):
        survivor, merged = _required(pid, 3), _required(mrg, 1)
        if survivor == merged:
            raise HL7Error(
                f"MRG({mrg.index})-1 names the surviving patient itself.",
                ERR_DATA_TYPE,
                ("MRG", mrg.index, 1),
            )
        data = {"id": survivor, "merged_id": merged, "updated_at": _updated_at(message)}
        events.append((f"merge/{merged}", "patient.merged", data))
    return events


def _payers(message):
    """payer.upserted for each insurance company of the IN1 segments, once per payer."""
    seen = {}
    for in1 in message.segments("IN1"):
        payer_id = _required(in1, 3)
        if payer_id in seen:
            continue
        data = {"id": payer_id, "name": in1.get(4) or payer_id}
        data.update(_address(in1, 5))
        data.update(_telecom(in1, 7))
        data["updated_at"] = _message_time(message)
        seen[payer_id] = ("payer/" + payer_id, "payer.upserted", data)
    return list(seen.values())


def _payer_id(message):
    in1 = message.first("IN1")
    return in1.get(3) if in1 else ""


def appointment(message):
    """(event type, data) of an SIU message."""
    sch = _segment(message, "SCH")
    event_type = APPOINTMENT_TRIGGERS[message.header.trigger_event]
    if message.header.trigger_event == "S14" and sch.get(25).lower() == "complete":
        event_type = "appointment.completed"
    start, end = sch.get(11, 4), sch.get(11, 5)
    tq1 = message.first("TQ1")
    if not start and tq1:
        start, end = tq1.get(7), tq1.get(8)
    if not start:
        raise HL7Error(
            "SCH-11.4 (or TQ1-7): the appointment start is required.",
            ERR_REQUIRED_FIELD,
            ("SCH", 1, 11),
        )
    data = {
        "id": sch.get(2) or _required(sch, 1),
        "patient_id": _patient_id(message),
        "start": iso_datetime(start, "SCH-11.4"),
        "status": STATUS[event_type],
        "updated_at": _message_time(message),
    }
    if end:
        data["end"] = iso_datetime(end, "SCH-11.5")
    optional = {
        "payer_id": _payer_id(message),
        "service_code": _first_of(message, "AIS", 3),
        "provider_id": _first_of(message, "AIP", 3),
        "location_code": _first_of(message, "AIL", 3),
        "reason": sch.get(6, 2) or sch.get(6, 1),
    }
    data.update({key: value for key, value in optional.items() if value})
    return event_type, data


def _first_of(message, name, field):
    segment = message.first(name)
    return segment.get(field) if segment else ""


def _amount(value, path, **kw):
    try:
        return parse_decimal(value, path, **kw)
    except DecimalError as error:
        raise HL7Error(
            f"{path} is not a decimal amount ({error}).", ERR_DATA_TYPE, _location(path)
        ) from error


def _transactions(message):
    """charge.captured for each FT1 of type CG, refund.issued for each CD."""
    ft1s = message.segments("FT1")
    if not ft1s:
        raise HL7Error("DFT^P03 needs at least one FT1 segment.", ERR_REQUIRED_FIELD, ("FT1", 1, 1))
    pv1 = message.first("PV1")
    common = {
        "patient_id": _patient_id(message),
        "payer_id": _payer_id(message),
        "encounter_id": pv1.get(19) if pv1 else "",
    }
    events = []
    for ft1 in ft1s:
        kind = ft1.get(6).upper()
        if kind == "CG":
            events.append((f"FT1/{_required(ft1, 2)}", "charge.captured", _charge(ft1, common)))
        elif kind == "CD":
            events.append((f"FT1/{_required(ft1, 2)}", "refund.issued", _credit(ft1, common)))
        else:
            raise HL7Error(
                f"{_ft1_path(ft1, 6)} transaction type must be CG (charge) or CD (credit).",
                ERR_TABLE_VALUE,
                ("FT1", ft1.index, 6),
            )
    return events


def _ft1_path(ft1, field, component=None):
    path = f"FT1({ft1.index})-{field}" if ft1.index > 1 else f"FT1-{field}"
    return f"{path}.{component}" if component else path


def _money(ft1, field):
    """(amount, currency) of an FT1 CP field: its price is an MO, quantity & denomination."""
    value = ft1.get(field, 1, 1, 1)
    if not value:
        return None, ""
    return (
        _amount(value, _ft1_path(ft1, field), allow_negative=True),
        ft1.get(field, 1, 1, 2).upper(),
    )


def _charge(ft1, common):
    quantity_text = ft1.get(10) or "1"
    quantity = _amount(quantity_text, _ft1_path(ft1, 10))
    if quantity <= 0:
        raise HL7Error(
            f"{_ft1_path(ft1, 10)} (quantity) must be positive.",
            ERR_DATA_TYPE,
            ("FT1", ft1.index, 10),
        )
    extended, currency = _money(ft1, 11)
    unit, unit_currency = _money(ft1, 12)
    if extended is None and unit is None:
        raise HL7Error(
            f"{_ft1_path(ft1, 11)} (extended amount) or FT1-12 (unit amount) is required.",
            ERR_REQUIRED_FIELD,
            ("FT1", ft1.index, 11),
        )
    if unit is None:
        unit = extended / quantity
        if unit * quantity != extended or unit.as_tuple().exponent < -MAX_DECIMALS:
            raise HL7Error(
                f"{_ft1_path(ft1, 11)} divided by the quantity is not an exact unit amount: "
                "send FT1-12.",
                ERR_DATA_TYPE,
                ("FT1", ft1.index, 12),
            )
    total = extended if extended is not None else unit * quantity
    if unit * quantity != total:
        raise HL7Error(
            f"{_ft1_path(ft1, 11)} is not FT1-12 × FT1-10.", ERR_DATA_TYPE, ("FT1", ft1.index, 11)
        )
    if total < 0 or unit < 0:
        raise HL7Error(
            f"{_ft1_path(ft1, 11)}: a charge (CG) cannot be negative; send a credit (CD).",
            ERR_DATA_TYPE,
            ("FT1", ft1.index, 11),
        )
    data = {
        "id": _required(ft1, 2),
        **{key: value for key, value in common.items() if value},
        "service_code": ft1.get(7) or ft1.get(25),
        "quantity": _plain(quantity),
        "unit_price": _plain(unit),
    }
    if not data["service_code"]:
        raise HL7Error(
            f"{_ft1_path(ft1, 7)} (or FT1-25): the service code is required.",
            ERR_REQUIRED_FIELD,
            ("FT1", ft1.index, 7),
        )
    description = ft1.get(7, 2) or ft1.get(8) or ft1.get(25, 2)
    if description:
        data["description"] = description[:255]
    if provider := ft1.get(20):
        data["provider_id"] = provider
    if currency := currency or unit_currency:
        data["currency"] = currency
    if ft1.get(4):
        data["service_date"] = iso_date(ft1.get(4), _ft1_path(ft1, 4))
    data.update(_shares(ft1, total))
    return data


def _shares(ft1, total):
    """payer_share FT1-15 and patient_share the rest, or nothing when FT1-15 is empty."""
    payer_share, _currency = _money(ft1, 15)
    if payer_share is not None:
        if payer_share < 0 or payer_share > total:
            raise HL7Error(
                f"{_ft1_path(ft1, 15)} (insurance amount) must lie between 0 and the amount.",
                ERR_DATA_TYPE,
                ("FT1", ft1.index, 15),
            )
        return {"payer_share": _plain(payer_share), "patient_share": _plain(total - payer_share)}
    return {}


def _credit(ft1, common):
    """A credit line refunds the charge FT1-3 names (by agreement with the sender)."""
    amount, currency = _money(ft1, 11)
    if amount is None:
        amount, currency = _money(ft1, 12)
    if amount is None:
        raise HL7Error(
            f"{_ft1_path(ft1, 11)} (amount) is required.",
            ERR_REQUIRED_FIELD,
            ("FT1", ft1.index, 11),
        )
    data = {
        "id": _required(ft1, 2),
        "charge_id": _required(ft1, 3),
        "amount": _plain(abs(amount)),
    }
    if common["patient_id"]:
        data["patient_id"] = common["patient_id"]
    if common["payer_id"]:
        data["payer_id"] = common["payer_id"]
    if currency:
        data["currency"] = currency
    if ft1.get(4):
        data["date"] = iso_date(ft1.get(4), _ft1_path(ft1, 4))
    if reason := ft1.get(8) or ft1.get(7, 2):
        data["reason"] = reason[:255]
    return data


def _plain(value):
    """A Decimal as the plain decimal string the canonical schemas take."""
    return format(value, "f")

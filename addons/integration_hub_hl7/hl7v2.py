"""HL7 v2 (ER7 encoding) messages and their acknowledgements, with no ORM.

Parsing rests on the ``hl7`` library (python-hl7): it takes the separators from MSH-1
and MSH-2 and reads escape sequences. This module adds what a receiver must decide
itself: the character set of MSH-18, segment terminators other than ``\\r``, a strict
MSH, a field reader that never raises, and the acknowledgement (MSH + MSA + ERR).
"""

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple

import hl7

# python-hl7 logs the content of fields it cannot unescape: that is people's data.
logging.getLogger("hl7").setLevel(logging.ERROR)

# HL7 table 0211 (MSH-18) -> Python codec. An empty MSH-18 means ASCII by the
# standard; senders that leave it empty often send UTF-8, of which ASCII is a part.
CHARSETS = {
    "": "utf-8",
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "8859/1": "iso-8859-1",
}

# HL7 table 0357, the codes ERR-3 carries.
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD = "101"
ERR_DATA_TYPE = "102"
ERR_TABLE_VALUE = "103"
ERR_UNSUPPORTED_MESSAGE_TYPE = "200"
ERR_UNSUPPORTED_EVENT = "201"
ERR_DUPLICATE_KEY = "205"
ERR_INTERNAL = "207"

ERROR_NAMES = {
    ERR_SEGMENT_SEQUENCE: "Segment sequence error",
    ERR_REQUIRED_FIELD: "Required field missing",
    ERR_DATA_TYPE: "Data type error",
    ERR_TABLE_VALUE: "Table value not found",
    ERR_UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    ERR_UNSUPPORTED_EVENT: "Unsupported event code",
    ERR_DUPLICATE_KEY: "Duplicate key identifier",
    ERR_INTERNAL: "Application internal error",
}

MAX_CONTROL_ID = 199  # MSH-10 in v2.7; the hub derives its own ids from it

_TIMESTAMP = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$"
)


class HL7Error(ValueError):
    """A message the receiver refuses: answered AR (or ``ack_code``) with an ERR.

    ``code`` is an HL7 table 0357 code, ``location`` an ERR-2 path such as
    ``("FT1", 1, 11)``; the message names field paths, never field content.
    """

    def __init__(self, message, code=ERR_DATA_TYPE, location=None, ack_code="AR"):
        super().__init__(message)
        self.message = message
        self.code = code
        self.location = location
        self.ack_code = ack_code


class Header(NamedTuple):
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    timestamp: str
    message_type: str
    trigger_event: str
    control_id: str
    processing_id: str
    version: str
    charset: str


class Separators(NamedTuple):
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


DEFAULT_SEPARATORS = Separators()


def _first_segment(raw):
    """The text of the first segment, read byte for byte (no decoding yet)."""
    text = raw.decode("latin-1").lstrip()
    return re.split(r"[\r\n]", text, maxsplit=1)[0], text


def sniff(raw):
    """(separators, control id, charset) of a message that may not parse, for its ACK.

    Never raises: anything unreadable falls back to the defaults.
    """
    msh, _text = _first_segment(raw)
    try:
        return _read_separators(msh), *_msh_fields(msh)
    except HL7Error:
        return DEFAULT_SEPARATORS, "", ""


def _read_separators(msh):
    if not msh.startswith("MSH") or len(msh) < 8:
        raise HL7Error(
            "The message does not start with an MSH segment.",
            ERR_SEGMENT_SEQUENCE,
            ("MSH", 1, 1),
        )
    field = msh[3]
    encoding = msh[4 : msh.find(field, 4) if field in msh[4:] else len(msh)]
    chars = [field, *encoding[:4]]
    if (
        len(encoding) not in (4, 5)
        or len(set(chars)) != 5
        or any(c.isalnum() or c in "\r\n " for c in chars)
    ):
        raise HL7Error(
            "MSH-1 and MSH-2 must hold five distinct separator characters.",
            ERR_DATA_TYPE,
            ("MSH", 1, 2),
        )
    return Separators(field, encoding[0], encoding[1], encoding[2], encoding[3])


def _msh_fields(msh):
    """(MSH-10, MSH-18's first repetition) read from the raw MSH, unescaped enough."""
    seps = _read_separators(msh)
    fields = msh.split(seps.field)
    # fields[0] is "MSH", fields[1] MSH-2: MSH-n is fields[n - 1].
    control_id = fields[9] if len(fields) > 9 else ""
    charset = fields[17] if len(fields) > 17 else ""
    charset = charset.split(seps.repetition)[0].split(seps.component)[0]
    return control_id.split(seps.component)[0][:MAX_CONTROL_ID], charset.strip().upper()


def decode(raw):
    """The message as text, decoded with the character set MSH-18 names.

    Returns (text with ``\\r`` segment endings and no blank lines, MSH-18, the text as sent).
    """
    msh, _text = _first_segment(raw)
    _control_id, charset = _msh_fields(msh)
    codec = CHARSETS.get(charset)
    if codec is None:
        raise HL7Error(
            f"MSH-18 character set {charset[:32]!r} is not supported "
            f"(use {', '.join(repr(c) for c in CHARSETS if c)}).",
            ERR_TABLE_VALUE,
            ("MSH", 1, 18),
        )
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as error:
        raise HL7Error(
            f"The message is not valid {codec} (byte {error.start}), as MSH-18 declares.",
            ERR_DATA_TYPE,
            ("MSH", 1, 18),
        ) from error
    if "\x00" in text:
        raise HL7Error("The message holds NUL bytes.", ERR_DATA_TYPE)
    lines = [line.strip("\n\t\f\v ") for line in re.split(r"\r\n|\r|\n", text)]
    return "\r".join(line for line in lines if line), charset or "", text


class Segment:
    """One segment; ``get`` reads a value by HL7 position, unescaped, "" when absent."""

    __slots__ = ("_segment", "index", "name")

    def __init__(self, segment, name, index):
        self._segment = segment
        self.name = name
        self.index = index  # 1 for the first segment of this name

    def get(self, field, component=1, repetition=1, subcomponent=1):
        try:
            value = self._segment.extract_field(1, field, repetition, component, subcomponent)
        except IndexError:
            return ""
        except (ValueError, KeyError) as error:  # a broken escape sequence, such as \.spX\
            raise HL7Error(
                f"{self.name}-{field} holds an invalid escape sequence.",
                ERR_DATA_TYPE,
                (self.name, self.index, field),
            ) from error
        return str(value).strip()

    def repetitions(self, field):
        """How many repetitions ``field`` holds (0 when empty)."""
        if field >= len(self._segment):
            return 0
        value = self._segment[field]
        if isinstance(value, hl7.Field):
            return sum(1 for rep in value if str(rep))
        return 1 if str(value) else 0


class Message:
    """A parsed HL7 v2 message: its header and its segments by name."""

    def __init__(self, raw, strict=True):
        text, charset, self.original = decode(raw)
        msh = text.split("\r", 1)[0]
        self.separators = _read_separators(msh)
        try:
            parsed = hl7.parse(text)
        except (hl7.ParseException, ValueError, IndexError) as error:
            raise HL7Error("The message cannot be parsed as HL7 v2.", ERR_DATA_TYPE) from error
        self._segments = {}
        for segment in parsed:
            name = str(segment[0]).strip()
            if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", name):
                raise HL7Error(
                    "A segment does not start with a three-character segment ID.",
                    ERR_SEGMENT_SEQUENCE,
                )
            found = self._segments.setdefault(name, [])
            found.append(Segment(segment, name, len(found) + 1))
        header = self.first("MSH")
        self.charset = charset
        self.header = Header(
            sending_application=header.get(3),
            sending_facility=header.get(4),
            receiving_application=header.get(5),
            receiving_facility=header.get(6),
            timestamp=header.get(7),
            message_type=header.get(9, 1).upper(),
            trigger_event=header.get(9, 2).upper(),
            control_id=header.get(10),
            processing_id=header.get(11),
            version=header.get(12),
            charset=charset,
        )
        if strict:
            self._check_header()

    def _check_header(self):
        if not self.header.control_id:
            raise HL7Error(
                "MSH-10 (message control ID) is empty.", ERR_REQUIRED_FIELD, ("MSH", 1, 10)
            )
        if len(self.header.control_id) > MAX_CONTROL_ID:
            raise HL7Error(
                f"MSH-10 is longer than {MAX_CONTROL_ID} characters.",
                ERR_DATA_TYPE,
                ("MSH", 1, 10),
            )
        if not (self.header.message_type and self.header.trigger_event):
            raise HL7Error(
                "MSH-9 must give the message type and trigger event (e.g. ADT^A04).",
                ERR_REQUIRED_FIELD,
                ("MSH", 1, 9),
            )

    def segments(self, name):
        return self._segments.get(name, [])

    def first(self, name):
        found = self._segments.get(name)
        return found[0] if found else None

    @property
    def kind(self):
        """MSH-9 as ``ADT^A04``."""
        return f"{self.header.message_type}^{self.header.trigger_event}"


def parse(raw):
    """Parse the bytes of one message; raises HL7Error (answered AR)."""
    if not isinstance(raw, bytes):
        raise TypeError("parse() takes the message's bytes")
    return Message(raw)


def parse_timestamp(value, path):
    """An HL7 DTM (``YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]``) as an aware datetime.

    A time without an offset is taken as UTC.
    """
    match = _TIMESTAMP.match(value or "")
    if not match:
        raise HL7Error(f"{path} is not an HL7 date/time.", ERR_DATA_TYPE, _location(path))
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz = UTC
    if offset:
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    try:
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError as error:
        raise HL7Error(
            f"{path} is not a valid date/time.", ERR_DATA_TYPE, _location(path)
        ) from error
    return moment.astimezone(UTC)


def iso_datetime(value, path):
    return parse_timestamp(value, path).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(value, path):
    return parse_timestamp(value[:8], path).strftime("%Y-%m-%d")


def _location(path):
    """ERR-2 of a path like ``FT1-11`` or ``PID-3.1``."""
    match = re.match(r"^([A-Z0-9]{3})(?:\((\d+)\))?-(\d+)", path or "")
    if not match:
        return None
    return (match.group(1), int(match.group(2) or 1), int(match.group(3)))


# -- acknowledgements ---------------------------------------------------------------

# HL7 table 0357 code for the intake's refusals (the rest are 207).
INTAKE_ERROR_CODES = {400: ERR_DATA_TYPE, 409: ERR_DUPLICATE_KEY}


def ack_code(http_status):
    """AE when the sender should send again later (busy, storage failed), else AR."""
    return "AE" if http_status in (429, 500, 502, 503, 504) else "AR"


def intake_error(status, code, message):
    """An HL7Error standing for a refusal of the hub's intake (``IntakeError``)."""
    return HL7Error(
        f"{code}: {message}",
        INTAKE_ERROR_CODES.get(status, ERR_INTERNAL),
        ack_code=ack_code(status),
    )


def escape(value, separators=DEFAULT_SEPARATORS):
    """``value`` with the separator characters written as escape sequences."""
    esc = separators.escape
    out = str(value).replace(esc, f"{esc}E{esc}")
    for char, code in (
        (separators.field, "F"),
        (separators.component, "S"),
        (separators.subcomponent, "T"),
        (separators.repetition, "R"),
    ):
        out = out.replace(char, f"{esc}{code}{esc}")
    return out.replace("\r", " ").replace("\n", " ")


def build_ack(
    ack_code,
    header=None,
    *,
    separators=DEFAULT_SEPARATORS,
    control_id="",
    text="",
    error=None,
    now=None,
):
    """The ACK (MSH + MSA [+ ERR]) answering a message, as text with ``\\r`` endings.

    ``header`` is the received message's Header when it parsed; ``control_id`` is
    used otherwise (what could be read of MSH-10). ``error`` is an HL7Error.
    """
    s = separators
    now = now or datetime.now(UTC)
    h = header
    msh = [
        "MSH",
        f"{s.component}{s.repetition}{s.escape}{s.subcomponent}",
        escape(h.receiving_application, s) if h else "",
        escape(h.receiving_facility, s) if h else "",
        escape(h.sending_application, s) if h else "",
        escape(h.sending_facility, s) if h else "",
        now.strftime("%Y%m%d%H%M%S"),
        "",
        f"ACK{s.component}{escape(h.trigger_event, s)}{s.component}ACK" if h else "ACK",
        uuid.uuid4().hex[:20],
        escape(h.processing_id, s) if h and h.processing_id else "P",
        escape(h.version, s) if h and h.version else "2.5.1",
    ]
    if h and h.charset:
        msh += [""] * 5 + [escape(h.charset, s)]
    segments = [
        s.field.join(msh),
        s.field.join(
            ["MSA", ack_code, escape(h.control_id if h else control_id, s), escape(text, s)[:80]]
        ),
    ]
    if error is not None:
        location = ""
        if error.location:
            location = s.component.join(str(part) for part in error.location)
        code = error.code
        segments.append(
            s.field.join(
                [
                    "ERR",
                    "",
                    location,
                    s.component.join([code, escape(ERROR_NAMES.get(code, ""), s), "HL70357"]),
                    "E",
                    "",
                    "",
                    "",
                    escape(error.message, s),
                ]
            )
        )
    return "\r".join(segments) + "\r"


def encode(text, charset=""):
    """The bytes of an ACK, in the character set of the message it answers."""
    return text.encode(CHARSETS.get(charset, "utf-8"), errors="replace")


def parse_ack(raw):
    """(MSA-1, MSA-2, MSA-3, ERR-3.1) of an ACK, for tests and clients."""
    message = Message(raw if isinstance(raw, bytes) else raw.encode(), strict=False)
    msa = message.first("MSA")
    err = message.first("ERR")
    return (
        msa.get(1) if msa else "",
        msa.get(2) if msa else "",
        msa.get(3) if msa else "",
        err.get(3) if err else "",
    )

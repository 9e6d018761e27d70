"""Files of events (CSV or JSON lines) read row by row into event data, no ORM.

A CSV file has a header line naming the keys of ``data``; its values are text, turned
into what the event's schema declares for the key (booleans, whole numbers, null for an
empty cell where null is allowed). A JSON-lines file has one ``data`` object per line.
"""

import csv
import io
import json

FORMATS = ("csv", "jsonl")
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}


class RowError(ValueError):
    """A row that cannot be read; ``str()`` names the column or the line, not values."""


def detect_format(file_name):
    name = (file_name or "").lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


def _types(schema, key):
    declared = ((schema or {}).get("properties") or {}).get(key, {}).get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def coerce(row, schema):
    """The data of a CSV row: cells turned into the types ``schema`` declares."""
    data = {}
    for key, text in row.items():
        if key is None:
            raise RowError("more cells than columns in the header")
        if not key:
            continue
        types = _types(schema, key)
        value = (text or "").strip()
        if value == "":
            if "null" in types:
                data[key] = None
            continue
        lowered = value.lower()
        if "boolean" in types and (lowered in TRUE or lowered in FALSE):
            data[key] = lowered in TRUE
        elif "integer" in types and value.lstrip("-").isdigit():
            data[key] = int(value)
        else:
            data[key] = value
    return data


def iter_rows(content, file_format, schema=None):
    """(row number, data or RowError) for each row of the file, numbered from 1."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RowError("the file is not UTF-8 text") from exc
    if file_format == "csv":
        reader = csv.DictReader(io.StringIO(content, newline=""))
        for number, row in enumerate(reader, start=1):
            try:
                yield number, coerce(row, schema)
            except RowError as exc:
                yield number, exc
        return
    number = 0
    for line in content.splitlines():
        if not line.strip():
            continue
        number += 1
        try:
            data = json.loads(line)
        except ValueError:
            yield number, RowError("not a JSON object")
            continue
        if not isinstance(data, dict):
            yield number, RowError("not a JSON object")
            continue
        yield number, data


def row_message_id(import_id, number, data):
    """The sender id of a row: its record's id (and version) when it has one, so the
    same row in this or another file is stored once; else its place in this file."""
    if isinstance(data.get("id"), str | int) and str(data["id"]):
        version = data.get("updated_at")
        key = f"{data['id']}@{version}" if isinstance(version, str) and version else data["id"]
        return f"import:{key}"[:255]
    return f"import:{import_id}:{number}"

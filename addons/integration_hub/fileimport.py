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


def _text(content):
    if isinstance(content, bytes):
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RowError("the file is not UTF-8 text") from exc
    return content


def _records(content, file_format):
    """(row number, unparsed row) for each row, numbered from 1 as a person counts them
    (the CSV header and blank lines are no rows); a CSV row is its header and cells."""
    content = _text(content)
    if file_format == "csv":
        reader = csv.reader(io.StringIO(content, newline=""))
        header = next(reader, [])
        number = 0
        for cells in reader:
            if cells:
                number += 1
                yield number, (header, cells)
        return
    number = 0
    for line in content.splitlines():
        if line.strip():
            number += 1
            yield number, line


def count_rows(content, file_format):
    """The number of rows, read but not parsed."""
    return sum(1 for _record in _records(content, file_format))


def _parse(raw, file_format, schema):
    if file_format == "csv":
        header, cells = raw
        if len(cells) > len(header):
            raise RowError("more cells than columns in the header")
        cells = cells + [""] * (len(header) - len(cells))
        return coerce(dict(zip(header, cells, strict=True)), schema)
    try:
        data = json.loads(raw)
    except ValueError:
        raise RowError("not a JSON object") from None
    if not isinstance(data, dict):
        raise RowError("not a JSON object")
    return data


def iter_rows(content, file_format, schema=None, start=1):
    """(row number, data or RowError) for each row of the file from row ``start``;
    the rows before it are skipped unparsed (a chunk of a large file starts late)."""
    for number, raw in _records(content, file_format):
        if number < start:
            continue
        try:
            yield number, _parse(raw, file_format, schema)
        except RowError as exc:
            yield number, exc


def row_message_id(import_id, number, data):
    """The sender id of a row: its record's id (and version) when it has one, so the
    same row in this or another file is stored once; else its place in this file."""
    if isinstance(data.get("id"), str | int) and str(data["id"]):
        version = data.get("updated_at")
        key = f"{data['id']}@{version}" if isinstance(version, str) and version else data["id"]
        return f"import:{key}"[:255]
    return f"import:{import_id}:{number}"

"""Reading and validating FHIR R4 bodies, and OperationOutcome answers, with no ORM.

Structure is checked with the R4B models of ``fhir.resources`` (see the readme for why);
everything the mapping reads afterwards comes from the plain JSON, whose decimals are
kept exact (``decimal.Decimal``), never floats.
"""

import json
from decimal import Decimal

import pydantic
from fhir.resources.R4B import get_fhir_model_class

MAX_DEPTH = 32
MAX_ARRAY_ITEMS = 10_000
MAX_BUNDLE_ENTRIES = 1_000

# Our stable error codes travel in each issue's details, beside FHIR's issue type.
ERROR_SYSTEM = "urn:integration-hub:fhir-error"


class FhirError(ValueError):
    """A request refused with ``status`` and an OperationOutcome of ``issues``.

    ``code`` is the hub's stable error code (the first issue's), as in JSON answers.
    """

    def __init__(self, status, issues):
        self.status = status
        self.issues = list(issues)
        self.code = self.issues[0].code
        super().__init__("; ".join(str(issue) for issue in self.issues))

    def outcome(self):
        return operation_outcome(self.issues)


class Issue:
    """One OperationOutcome issue: FHIR issue ``type``, our ``code``, where and why."""

    __slots__ = ("code", "expression", "message", "severity", "type")

    def __init__(self, type_, code, message, expression=None, severity="error"):
        self.severity = severity
        self.type = type_
        self.code = code
        self.message = message
        self.expression = expression

    def __str__(self):
        return f"{self.expression}: {self.message}" if self.expression else self.message

    def as_dict(self):
        issue = {
            "severity": self.severity,
            "code": self.type,
            "details": {
                "coding": [{"system": ERROR_SYSTEM, "code": self.code}],
                "text": self.message,
            },
            "diagnostics": self.message,
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


def error(status, type_, code, message, expression=None):
    return FhirError(status, [Issue(type_, code, message, expression)])


def operation_outcome(issues):
    return {"resourceType": "OperationOutcome", "issue": [issue.as_dict() for issue in issues]}


def informational_outcome(message, message_id=None, status=None):
    """The OperationOutcome of an accepted resource, naming the hub's message id."""
    text = message
    issue = {"severity": "information", "code": "informational", "diagnostics": text}
    if message_id:
        issue["details"] = {
            "coding": [{"system": ERROR_SYSTEM, "code": status or "queued"}],
            "text": f"integration.message {message_id}",
        }
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _check_shape(value, max_depth, max_items):
    # Iterative: a recursive walk would itself be the stack overflow it guards against.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            if len(node) > max_items:
                raise error(400, "too-costly", "too_complex", f"an array holds over {max_items}")
            children = node
        else:
            continue
        if depth > max_depth:
            raise error(
                400, "too-costly", "too_complex", f"JSON is nested deeper than {max_depth} levels"
            )
        stack.extend((child, depth + 1) for child in children)


def parse_body(body, max_depth=MAX_DEPTH, max_items=MAX_ARRAY_ITEMS):
    """The JSON object of a FHIR body (bytes), decimals as ``Decimal``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            400, "structure", "malformed_json", f"the body is not UTF-8 text (byte {exc.start})"
        ) from exc
    try:
        resource = json.loads(text, parse_float=Decimal)
    except RecursionError as exc:
        raise error(
            400, "too-costly", "too_complex", f"JSON is nested deeper than {max_depth} levels"
        ) from exc
    except ValueError as exc:
        raise error(400, "structure", "malformed_json", f"the body is not JSON: {exc}") from exc
    _check_shape(resource, max_depth, max_items)
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise error(
            400, "structure", "not_fhir", "the body is not a FHIR resource (no resourceType)"
        )
    return resource


def expression_of(root, loc):
    """FHIRPath-like location of a pydantic error: ``Bundle.entry[2].resource.quantity``."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}"
    return path


def _model_class(resource_type):
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        return None


def _check_resource_types(resource, root):
    """Every resource (entries, contained) names a known R4 type; contained ones nest no
    further (FHIR's rule dom-2)."""
    issues = []
    todo = [(resource, root, False)]
    while todo:
        node, where, contained = todo.pop()
        resource_type = node.get("resourceType") if isinstance(node, dict) else None
        if not isinstance(resource_type, str) or not _model_class(resource_type):
            issues.append(
                Issue(
                    "structure",
                    "unknown_resource_type",
                    f"not a FHIR R4 resource type: {str(resource_type)[:64]!r}",
                    f"{where}.resourceType",
                )
            )
            continue
        inner = node.get("contained") or []
        if contained and inner:
            issues.append(
                Issue(
                    "structure",
                    "invalid_data",
                    "a contained resource cannot contain resources",
                    f"{where}.contained",
                )
            )
            continue
        if isinstance(inner, list):
            todo.extend((child, f"{where}.contained[{n}]", True) for n, child in enumerate(inner))
        if resource_type == "Bundle" and isinstance(node.get("entry"), list):
            for n, entry in enumerate(node["entry"]):
                if isinstance(entry, dict) and "resource" in entry:
                    todo.append((entry["resource"], f"{where}.entry[{n}].resource", False))
    if issues:
        raise FhirError(400, issues[:20])


def validate(resource, max_entries=MAX_BUNDLE_ENTRIES):
    """Check ``resource`` (a parsed dict) against the R4 models; raise FhirError 400
    whose issues name each failing element."""
    root = resource["resourceType"]
    if root == "Bundle" and len(resource.get("entry") or ()) > max_entries:
        raise error(
            400,
            "too-costly",
            "too_many_entries",
            f"a Bundle holds at most {max_entries} entries",
            "Bundle.entry",
        )
    _check_resource_types(resource, root)
    try:
        _model_class(root).model_validate(resource)
    except pydantic.ValidationError as exc:
        issues = [
            Issue(
                "required" if err["type"] == "missing" else "structure",
                "invalid_data",
                err["msg"],
                expression_of(root, err["loc"]),
            )
            for err in exc.errors()[:20]
        ]
        raise FhirError(400, issues) from exc
    except (TypeError, ValueError, KeyError) as exc:
        # fhir.resources raises these for shapes its validators do not expect.
        raise error(400, "structure", "invalid_data", f"invalid {root}: {exc}", root) from exc

"""The OpenAPI document of the service, generated from its table of endpoints.

Input: the service's `Endpoint`s, the loaded policy's record schema and the service's
options. Output: an OpenAPI 3.1 document (whose schemas are JSON Schema 2020-12, like the
record schema), with `Record` under `components.schemas`, so a client can be generated
for any policy. It says what the service does: a body may hold any object or list (a bad
record gets an error object in its place, with 200), a list at most `max_records` long;
the bearer token is asked for only when the service has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REF = "#/components/schemas/"


@dataclass(frozen=True)
class Endpoint:
    path: str
    method: str
    summary: str
    body: str | None  # the request body's schema name, if the endpoint takes one
    returns: dict[str, Any]  # the schema of a 200 answer
    guarded: bool = True  # needs the bearer token when one is set
    media: str = "application/json"  # of the request body, and of the answer
    page: bool = False  # a page for people, not part of the API document
    parameters: tuple[dict[str, Any], ...] = ()  # its query parameters
    also: str | None = None  # another media type of a 200 answer (asked for by a parameter)
    refusals: tuple[str, ...] = ()  # statuses it may answer besides the common ones


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def one_or_many(name: str) -> dict[str, Any]:
    return {"oneOf": [_ref(name), {"type": "array", "items": _ref(name)}]}


SCHEMAS: dict[str, Any] = {
    "Needs": {
        "type": "object",
        "description": "What a record still being filled in needs, as `rules explain --needs` "
        "gives it: the fields left, those that can change the amount, the next one and the "
        "outcome of each of its choices (or the outcome, when nothing is left).",
        "properties": {
            "id": {"type": ["string", "integer"]},
            "needed": {"type": "array", "items": {"type": "string"}},
            "matters": {"type": "array", "items": {"type": "string"}},
            "unit": {"type": ["string", "null"]},
            "one_of": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
            "next": {"type": "string"},
            "choices": {"type": "object"},
            "outcome": {},
            "error": {"type": "object"},
        },
    },
    "Result": {
        "type": "object",
        "description": "The result of one record, as `rules eval` prints it, or its error "
        "in its place.",
        "properties": {
            "id": {"type": ["string", "integer"]},
            "person": {"type": "string"},
            "year": {"type": "integer"},
            "kind": {"type": "string"},
            "regime": {"type": "string"},
            "unit": {"type": "string"},
            "category": {"type": "string"},
            "amount": {"type": "number"},
            "counted": {"type": "boolean"},
            "reason": {"type": "string"},
            "policy": {"type": "string"},
            "version": {"type": "string"},
            "trace": {"type": "array", "items": {"type": "object"}},
            "error": _ref("RecordError"),
        },
        "required": ["id"],
    },
    "RecordError": {
        "type": "object",
        "properties": {
            "code": {"enum": ["invalid_record", "unknown_kind", "no_policy_in_force"]},
            "message": {"type": "string"},
            "field": {"type": ["string", "null"]},
        },
        "required": ["code", "message"],
    },
    "ReportRow": {
        "type": "object",
        "description": "A person-year, a window or an invalid record, as `rules report` prints it.",
        "properties": {"scope": {"enum": ["year", "window", "error"]}},
        "required": ["scope"],
    },
    "Explanation": {
        "type": "object",
        "description": "A result with its steps in words, or an invalid record's error.",
        "properties": {"steps": {"type": "array", "items": {"type": "object"}}},
    },
    "Problem": {
        "type": "object",
        "description": "Why a request was refused.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "status": {"type": "integer"},
                },
                "required": ["code", "message", "status"],
            },
            "request_id": {"type": "string"},
        },
        "required": ["error"],
    },
    "Confirm": {
        "type": "object",
        "description": "The version held back, as `/v1/policies` names it.",
        "properties": {"version": {"type": "string"}},
        "required": ["version"],
        "additionalProperties": False,
    },
}

PROBLEMS = {
    "400": "malformed JSON, or a body or a parameter that is not what the endpoint takes",
    "401": "no valid bearer token (the service has one)",
    "408": "the body did not arrive within the body timeout",
    "409": "no such version is held back",
    "413": "a body over the size limit, or more records than one request may carry",
    "415": "a body that is not of the media type the endpoint takes",
    "503": "the request's work took longer than the time limit (or: the service is not ready)",
}
BODY_PROBLEMS = ("400", "408", "413", "415")


def records_body(max_records: int) -> dict[str, Any]:
    """A body of records: one record or a list. Any other object, or a list of any
    values, is taken too: each bad record gets an error object in its place."""
    many = {"type": "array", "items": _ref("Record"), "maxItems": max_records}
    other = {
        "type": ["object", "array"],
        "maxItems": max_records,
        "description": "anything else: an error object in the place of each bad record",
    }
    return {"anyOf": [_ref("Record"), many, other]}


def _operation(e: Endpoint, secured: bool, max_records: int) -> dict[str, Any]:
    content = {e.media: {"schema": e.returns}}
    if e.also:
        content[e.also] = {"schema": {"type": "string", "format": "binary"}}
    operation: dict[str, Any] = {
        "summary": e.summary,
        "operationId": e.path.strip("/").replace("/", "_") + "_" + e.method.lower(),
        "responses": {"200": {"description": "OK", "content": content}},
    }
    if e.parameters:
        operation["parameters"] = list(e.parameters)
    if e.body == "Spreadsheet":
        binary = {"schema": {"type": "string", "format": "binary"}}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/octet-stream": binary},
        }
    elif e.body == "Record":
        operation["requestBody"] = {"required": True, "content": _json(records_body(max_records))}
    elif e.body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(e.body))}
    refused = [*(BODY_PROBLEMS if e.body else ()), *e.refusals, "503"]
    if e.guarded and secured:
        refused.append("401")
        operation["security"] = [{"bearer": []}]
    for code in sorted(set(refused)):
        operation["responses"][code] = {
            "description": PROBLEMS[code],
            "content": _json(_ref("Problem")),
        }
    return operation


def document(
    endpoints: list[Endpoint],
    record: dict[str, Any],
    title: str,
    version: str,
    secured: bool = False,
    max_records: int = 10_000,
) -> dict[str, Any]:
    """The document; `version` is the serving policy's, `secured` whether a token is set."""
    record = {k: v for k, v in record.items() if k not in ("$schema", "$id")}
    paths: dict[str, Any] = {}
    for e in endpoints:
        if not e.page:
            paths.setdefault(e.path, {})[e.method.lower()] = _operation(e, secured, max_records)
    components: dict[str, Any] = {"schemas": {"Record": record, **SCHEMAS}}
    if secured:
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": components,
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}

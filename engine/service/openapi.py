"""The OpenAPI document of the service, generated from its table of endpoints.

Input: the service's `Endpoint`s and the loaded policy's record schema. Output: an
OpenAPI 3.1 document (whose schemas are JSON Schema 2020-12, like the record schema),
with `Record` under `components.schemas`, so a client can be generated for any policy.
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


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def one_or_many(name: str) -> dict[str, Any]:
    return {"oneOf": [_ref(name), {"type": "array", "items": _ref(name)}]}


SCHEMAS: dict[str, Any] = {
    "Result": {
        "type": "object",
        "description": "The result of one record (contract: 'Result of one record'), or its "
        "error in its place.",
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
            "field": {"type": "string"},
        },
        "required": ["code", "message"],
    },
    "ReportRow": {
        "type": "object",
        "description": "A person-year, a window or an invalid record (contract: 'Reports').",
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
}

PROBLEMS = {
    "400": "malformed JSON, or a body that is not a record or a list of records",
    "401": "no valid bearer token (when the service has one)",
    "413": "a body over the size limit, or more records than one request may carry",
    "415": "a body that is not `application/json`",
}


def document(
    endpoints: list[Endpoint], record: dict[str, Any], title: str, version: str
) -> dict[str, Any]:
    """The document; `version` is the serving policy's."""
    record = {k: v for k, v in record.items() if k not in ("$schema", "$id")}
    paths: dict[str, Any] = {}
    for e in endpoints:
        if e.page:
            continue
        operation: dict[str, Any] = {
            "summary": e.summary,
            "operationId": e.path.strip("/").replace("/", "_") + "_" + e.method.lower(),
            "responses": {
                "200": {"description": "OK", "content": {e.media: {"schema": e.returns}}}
            },
        }
        if e.body == "Spreadsheet":
            binary = {"schema": {"type": "string", "format": "binary"}}
            operation["requestBody"] = {
                "required": True,
                "content": {"application/octet-stream": binary},
            }
        elif e.body is not None:
            operation["requestBody"] = {"required": True, "content": _json(one_or_many(e.body))}
        refused = {c: d for c, d in PROBLEMS.items() if e.guarded and (e.body or c == "401")}
        for code, description in refused.items():
            operation["responses"][code] = {
                "description": description,
                "content": _json(_ref("Problem")),
            }
        if e.guarded:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(e.path, {})[e.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": {"Record": record, **SCHEMAS},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}

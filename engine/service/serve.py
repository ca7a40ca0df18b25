"""`rules serve`: decisions over HTTP, on Starlette, served by uvicorn.

Input: JSON requests. Output: the contract's results, reports and explanations, made by
the very `Policy` objects the command line and the library use (no second evaluator),
as JSON with exact decimals. A bad request gets a JSON problem with its status (400,
401, 404, 405, 413, 415; 500 with no stack trace), never a crash. Each request reads the
serving policy once (`PolicyHolder.current`), so a reload in between is never half seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from engine.io.cells import CellReader
from engine.io.inputs import InputError, TooManyRows, read_records
from engine.io.outputs import Writer, labels, report_columns
from engine.running.jsonout import dumps, loads
from engine.running.protocol import Decides
from engine.service.decisionlog import DecisionLog, Encoded
from engine.service.holder import PolicyHolder, now, settle
from engine.service.metrics import Metrics
from engine.service.openapi import Endpoint, document, one_or_many
from engine.service.pages import UI, document_page, index_page

log = logging.getLogger("rules.serve")
JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INLINE_RECORDS = 1000  # a request with more records is worked off the event loop


@dataclass
class Reply:
    """An answer that is not the endpoint's usual JSON: a workbook, say."""

    content: bytes | str
    media: str
    headers: dict[str, str]


@dataclass
class Options:
    max_body: int = 10 * 2**20  # bytes
    max_records: int = 10_000  # per request
    token: str | None = None  # bearer token for /v1/
    reload_every: float = 1.0  # seconds between looks at the policy files; 0: never


class Problem(Exception):
    """A request refused: its status, a stable code and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


ENDPOINTS = [
    Endpoint(
        "/v1/evaluate",
        "POST",
        "Evaluate one record, or a list of records in order",
        "Record",
        one_or_many("Result"),
    ),
    Endpoint(
        "/v1/report",
        "POST",
        "Report on records: person-years, windows, then errors",
        "Record",
        {"type": "array", "items": {"$ref": "#/components/schemas/ReportRow"}},
    ),
    Endpoint(
        "/v1/explain",
        "POST",
        "Explain one record, or a list, step by step in words",
        "Record",
        one_or_many("Explanation"),
    ),
    Endpoint(
        "/v1/schema",
        "GET",
        "The JSON Schema of the records the policy accepts",
        None,
        {"type": "object"},
    ),
    Endpoint(
        "/v1/policies",
        "GET",
        "The loaded policies, versions, years and last reload",
        None,
        {"type": "object"},
    ),
    Endpoint(
        "/v1/report/upload",
        "POST",
        "Report on a unit's sheet (.xlsx or .csv), as JSON or (`?format=xlsx`) as a workbook",
        "Spreadsheet",
        {"type": "object"},
    ),
    Endpoint(
        "/v1/document",
        "GET",
        "The policy as a document",
        None,
        {"type": "string"},
        media="text/html; charset=utf-8",
    ),
    Endpoint("/healthz", "GET", "Liveness", None, {"type": "object"}, guarded=False),
    Endpoint(
        "/metrics",
        "GET",
        "Prometheus metrics",
        None,
        {"type": "string"},
        guarded=False,
        media="text/plain; version=0.0.4",
    ),
    Endpoint("/openapi.json", "GET", "This document", None, {"type": "object"}, guarded=False),
    Endpoint(
        "/",
        "GET",
        "The web page",
        None,
        {},
        guarded=False,
        media="text/html; charset=utf-8",
        page=True,
    ),
]


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    usable = 0 < len(given) <= 128 and all(c.isalnum() or c in "-_.:" for c in given)
    return given if usable else uuid.uuid4().hex


class Service:
    """The endpoints, over one policy holder, an optional decision log and metrics."""

    def __init__(
        self, holder: PolicyHolder, options: Options, decisions: DecisionLog | None = None
    ) -> None:
        self.holder, self.options, self.decisions = holder, options, decisions
        self.metrics = Metrics()
        self._openapi: tuple[str, str] | None = None  # (version, text)

    # ── the common path of every request ───────────────────────────────────
    async def answer(
        self, request: Request, endpoint: Endpoint, work: Callable[..., Any]
    ) -> Response:
        started = time.perf_counter()
        rid = _request_id(request)
        status, headers = 200, {"X-Request-Id": rid}
        try:
            if endpoint.guarded:
                self._authorize(request)
            body: Any = None
            if endpoint.body == "Spreadsheet":
                body = await self._raw(request)
            elif endpoint.body:
                body = await self._body(request)
            policy = self.holder.current  # read once: this request's policy throughout
            params = dict(request.query_params)
            if isinstance(body, bytes) or (isinstance(body, list) and len(body) > INLINE_RECORDS):
                text = await anyio.to_thread.run_sync(work, policy, body, rid, params)
            else:  # short work: a thread would cost more than it spares the other requests
                text = work(policy, body, rid, params)
        except Problem as problem:
            status, text = problem.status, self._problem(problem, rid)
            if status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="rules"'
        except Exception:
            log.exception("request %s failed", rid)
            status = 500
            text = self._problem(Problem(500, "internal", "the service failed; see its log"), rid)
        self.metrics.count(
            "rules_requests_total", path=endpoint.path, method=request.method, status=str(status)
        )
        self.metrics.observe(time.perf_counter() - started, path=endpoint.path)
        media = endpoint.media if status == 200 else JSON
        if isinstance(text, Reply):
            headers.update(text.headers)
            media = text.media
            text = text.content
        return Response(text, status, headers, media_type=media)

    @staticmethod
    def _problem(problem: Problem, rid: str) -> str:
        error = {"code": problem.code, "message": problem.message, "status": problem.status}
        return dumps({"error": error, "request_id": rid})

    def _authorize(self, request: Request) -> None:
        token = self.options.token
        if token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
            raise Problem(
                401,
                "unauthorized",
                "this endpoint needs `Authorization: Bearer TOKEN` with the service's token",
            )

    async def _body(self, request: Request) -> list[Any] | dict[str, Any]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != JSON and not media.endswith("+json"):
            raise Problem(
                415,
                "unsupported_media_type",
                f"send JSON with `Content-Type: {JSON}`; got `{media or 'none'}`",
            )
        try:
            data = loads((await self._raw(request)).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise Problem(400, "bad_json", f"the body is not JSON: {error}") from None
        if not isinstance(data, dict | list):
            raise Problem(400, "bad_body", "the body is one record (an object) or a list of them")
        if isinstance(data, list) and len(data) > self.options.max_records:
            raise Problem(
                413,
                "too_many_records",
                f"{len(data)} records; one request may carry at most {self.options.max_records}",
            )
        return data

    async def _raw(self, request: Request) -> bytes:
        """The body, refused (413) as soon as it is over the limit."""
        limit = self.options.max_body
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Problem(413, "body_too_large", f"the body is over the limit of {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Problem(413, "body_too_large", f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    # ── the work of each endpoint (run in a worker thread) ─────────────────
    def evaluate(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> bytes:
        records = body if isinstance(body, list) else [body]
        decided = list(policy.evaluate_json(enumerate(records, 1)))
        self._count("evaluate", len(records), [code for _, code, _ in decided if code])
        self._log(
            "evaluate",
            rid,
            (
                (record, Encoded(text), member.name, member.version)
                for record, (text, _, member) in zip(records, decided, strict=True)
            ),
        )
        texts = [text for text, _, _ in decided]
        return texts[0] if isinstance(body, dict) else b"[" + b", ".join(texts) + b"]"

    def explain(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        records = body if isinstance(body, list) else [body]
        explained = [policy.explain(r, n) for n, r in enumerate(records, 1)]
        self._count(
            "explain", len(records), [e["error"]["code"] for e in explained if "error" in e]
        )
        for e in explained:  # an error's explanation names no policy: the set's
            e.setdefault("policy", policy.name)
            e.setdefault("version", policy.version)
        self._log(
            "explain",
            rid,
            (
                (record, e, e["policy"], e["version"])
                for record, e in zip(records, explained, strict=True)
            ),
        )
        return dumps(explained[0]) if isinstance(body, dict) else _array(explained)

    def report(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        records = body if isinstance(body, list) else [body]
        return _array(self._report(policy, list(enumerate(records, 1)), rid, "report"))

    def _report(
        self, policy: Decides, numbered: list[tuple[int, Any]], rid: str, endpoint: str
    ) -> list[dict[str, Any]]:
        rows = list(policy.report_numbered(numbered))
        errors = [r["error"]["code"] for r in rows if r["scope"] == "error"]
        self._count(endpoint, len(numbered), errors)
        if self.decisions is not None:
            self.decisions.write(_report_entries(policy, rid, numbered, rows))
        return rows

    def upload(self, policy: Decides, body: bytes, rid: str, params: dict[str, str]) -> str | Reply:
        """A unit's sheet, read as `rules report` reads it: its report as JSON (with the
        columns and their labels), or with `?format=xlsx` as the report's workbook."""
        name = params.get("name") or "upload.xlsx"
        suffix = Path(name).suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise Problem(
                415, "unsupported_media_type", f"send an .xlsx or .csv file; got `{name}`"
            )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(body)
            cells = CellReader([m.model for m in policy.members])
            sheet, limit = params.get("sheet") or None, self.options.max_records * 10
            try:
                numbered = list(read_records(path, cells, sheet, limit=limit))
            except InputError as error:
                message = str(error).replace(str(path), name)
                if isinstance(error, TooManyRows):
                    raise Problem(413, "too_many_records", message) from None
                raise Problem(400, "bad_file", message) from None
            rows = self._report(policy, numbered, rid, "report/upload")
            columns, names = report_columns(policy), labels(policy)
            if params.get("format") != "xlsx":
                return dumps({"columns": columns, "labels": names, "rows": rows})
            out = Path(folder) / "report.xlsx"
            writer = Writer(out, columns, names, True)
            for row in rows:
                writer.write(row)
            writer.close()
            download = Path(name).stem + "-report.xlsx"
            return Reply(
                out.read_bytes(),
                XLSX,
                {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(download)}"},
            )

    def _count(self, endpoint: str, records: int, errors: list[str]) -> None:
        self.metrics.count("rules_records_total", records, endpoint=endpoint)
        for code in errors:
            self.metrics.count("rules_record_errors_total", endpoint=endpoint, code=code)

    def _log(self, endpoint: str, rid: str, decided: Iterable[tuple[Any, Any, str, str]]) -> None:
        """Each (input, result, policy, version) of a request to the decision log."""
        if self.decisions is None:
            return
        at = now()
        self.decisions.write(
            [
                {
                    "time": at,
                    "request_id": rid,
                    "endpoint": endpoint,
                    "policy": name,
                    "version": version,
                    "input": record,
                    "result": result,
                }
                for record, result, name, version in decided
            ]
        )

    def schema(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        return dumps(policy.schema())

    def policies(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        return dumps(self.holder.describe())

    def health(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        return dumps({"status": "ok", "policy": policy.name, "version": policy.version})

    def metrics_text(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        for result, count in self.holder.reloads.items():
            self.metrics.counters["rules_policy_reloads_total"][(("result", result),)] = count
        info = [
            (
                "rules_policy_info",
                "The policy serving: 1 for its name and version.",
                (("name", m.name), ("version", m.version)),
                1,
            )
            for m in policy.members
        ]
        return self.metrics.text(info)

    def openapi(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        cached = self._openapi
        if cached is None or cached[0] != policy.version:
            title = f"rules: {policy.label or policy.name}"
            text = dumps(document(ENDPOINTS, policy.schema(), title, policy.version))
            cached = self._openapi = (policy.version, text)
        return cached[1]

    # ── the application ────────────────────────────────────────────────────
    def app(self) -> Starlette:
        work = {
            "/v1/evaluate": self.evaluate,
            "/v1/report": self.report,
            "/v1/explain": self.explain,
            "/v1/schema": self.schema,
            "/v1/policies": self.policies,
            "/healthz": self.health,
            "/metrics": self.metrics_text,
            "/openapi.json": self.openapi,
            "/v1/report/upload": self.upload,
            "/v1/document": lambda policy, *_: document_page(policy),
            "/": lambda *_: index_page(),
        }

        def route(endpoint: Endpoint) -> Route:
            async def handle(request: Request) -> Response:
                return await self.answer(request, endpoint, work[endpoint.path])

            return Route(endpoint.path, handle, methods=[endpoint.method])

        async def refused(request: Request, error: Exception) -> Response:
            assert isinstance(error, HTTPException)
            code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http")
            message = {
                404: f"no endpoint at `{request.url.path}`; see /openapi.json",
                405: f"`{request.method}` is not allowed on `{request.url.path}`",
            }.get(error.status_code, str(error.detail))
            rid = _request_id(request)
            self.metrics.count(
                "rules_requests_total",
                path="unmatched",
                method=request.method,
                status=str(error.status_code),
            )
            text = self._problem(Problem(error.status_code, code, message), rid)
            return Response(text, error.status_code, {"X-Request-Id": rid}, media_type=JSON)

        return Starlette(
            routes=[*(route(e) for e in ENDPOINTS), Mount("/ui", StaticFiles(directory=UI))],
            exception_handlers={HTTPException: refused},
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        watcher = asyncio.create_task(self._watch()) if self.options.reload_every > 0 else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if self.decisions is not None:
                self.decisions.close()

    async def _watch(self) -> None:
        """Look at the policy files now and then; load a changed version off the loop."""
        while True:
            await asyncio.sleep(self.options.reload_every)
            try:
                await anyio.to_thread.run_sync(self.holder.reload_if_changed)
            except Exception:
                log.exception("looking for policy changes failed")


def _array(texts: list[Any]) -> str:
    return "[" + ", ".join(dumps(t) for t in texts) + "]"


def _report_entries(
    policy: Decides, rid: str, numbered: list[tuple[int, Any]], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One decision per report row: the person's records it was decided on (for a year
    row, that year's; for a window, all of them), or the invalid record itself."""
    at = now()
    by_person: dict[str, list[Any]] = {}
    by_id: dict[Any, Any] = {}
    for n, record in numbered:
        if isinstance(record, dict):
            if isinstance(record.get("person"), str):
                by_person.setdefault(record["person"], []).append(record)
            by_id.setdefault(record.get("id", n), record)
        else:
            by_id.setdefault(n, record)
    entries = []
    for row in rows:
        if row["scope"] == "error":
            given = by_id.get(row["id"])
        else:
            mine = by_person.get(row["person"], [])
            given = [r for r in mine if r.get("year") == row["year"]] if "year" in row else mine
        entries.append(
            {
                "time": at,
                "request_id": rid,
                "endpoint": "report",
                "policy": row.get("policy", policy.name),
                "version": row.get("version", policy.version),
                "input": given,
                "result": row,
            }
        )
    return entries


def build(
    paths: list[str] | None,
    options: Options,
    decision_log: Path | None = None,
    salt: bytes | None = None,
    fsync: bool = False,
) -> Service:
    """The service over the policy at `paths` (loaded now: a bad policy fails here)."""
    decisions = DecisionLog(decision_log, salt, fsync) if decision_log else None
    if decisions is not None and decisions.dropped:
        log.warning(
            "decision log: cut an unfinished last line of %d bytes (a request in "
            "flight when the service stopped)",
            decisions.dropped,
        )
    holder = PolicyHolder(paths)
    settle()
    return Service(holder, options, decisions)

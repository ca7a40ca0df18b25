"""`rules serve`: decisions over HTTP, on Starlette, served by uvicorn.

Input: JSON requests. Output: the contract's results, reports and explanations, made by
the very `Policy` objects the command line and the library use (no second evaluator),
as JSON with exact decimals. A bad request gets a JSON problem with its status (400,
401, 404, 405, 408, 409, 413, 415, 503; 500 with no stack trace), never a crash. Each
request reads the serving policy once (`PolicyHolder.current`), so a reload in between
is never half seen. Every request is bounded in time: its head, its body, its work and
its answer each have a limit (`engine.service.timeouts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from engine.io.cells import CellReader
from engine.io.inputs import InputError, TooManyRows, read_records
from engine.io.outputs import Writer, labels, report_columns
from engine.running.jsonout import dumps, loads
from engine.running.protocol import Decides
from engine.running.records import INVALID, RecordError, Unreadable, usable_id, year_of
from engine.service import timeouts
from engine.service.decisionlog import DecisionLog, Encoded
from engine.service.holder import PolicyHolder, now, settle
from engine.service.metrics import Metrics
from engine.service.openapi import Endpoint, document, one_or_many
from engine.service.pages import UI, document_page, index_page
from engine.views.needs import needs

log = logging.getLogger("rules.serve")
JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INLINE_RECORDS = 1000  # a request with more records is worked off the event loop
SHEETS_AT_ONCE = 1  # sheets reported on at once: each holds its people's totals
CLOSE = {"Connection": "close"}  # after a body left unread


@dataclass
class Reply:
    """An answer that is not the endpoint's usual JSON: a workbook, say."""

    content: bytes | str
    media: str
    headers: dict[str, str]


class Pieces:
    """An answer made in pieces of about 64 KiB and sent piece by piece: the report of
    a big sheet runs to tens of megabytes, and is never held, nor copied, whole."""

    SIZE = 2**16

    def __init__(self, head: bytes = b"[") -> None:
        self._done: deque[bytes] = deque()
        self._open: list[bytes] = [head]
        self._size, self._items = len(head), 0

    def item(self, value: Any) -> None:
        """`value` as the next item of the JSON array being written."""
        self._add((b", " if self._items else b"") + dumps(value).encode())
        self._items += 1

    def end(self, tail: bytes = b"]") -> Pieces:
        self._add(tail)
        self._done.append(b"".join(self._open))
        self._open, self._size = [], 0
        return self

    def _add(self, data: bytes) -> None:
        self._open.append(data)
        self._size += len(data)
        if self._size >= self.SIZE:
            self._done.append(b"".join(self._open))
            self._open, self._size = [], 0

    async def stream(self) -> AsyncIterator[bytes]:
        while self._done:
            yield self._done.popleft()


@dataclass
class Options:
    max_body: int = 10 * 2**20  # bytes
    max_records: int = 10_000  # per request
    token: str | None = None  # bearer token for /v1/
    reload_every: float = 1.0  # seconds between looks at the policy files; 0: never
    reload_settle: float = 1.0  # seconds changed files must stay unchanged before a load
    allow_shrink: bool = False  # load a version that drops kinds, summaries or windows
    header_timeout: float = 10.0  # seconds to send a request's head
    body_timeout: float = 60.0  # seconds to send a request's body, or to take an answer
    request_timeout: float = 60.0  # seconds for a request's work


class Problem(Exception):
    """A request refused: its status, a stable code, a message and any headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


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
        "/v1/needs",
        "POST",
        "For a record still being filled in: the fields left, those that change the amount, "
        "and each choice's outcome",
        "Record",
        one_or_many("Needs"),
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
        parameters=(
            {
                "name": "name",
                "in": "query",
                "description": "the file's name; its suffix says how to read it",
                "schema": {"type": "string", "pattern": "[^/][.]([xX][lL][sS][xX]|[cC][sS][vV])$"},
            },
            {"name": "format", "in": "query", "schema": {"enum": ["json", "xlsx"]}},
            {"name": "sheet", "in": "query", "schema": {"type": "string"}},
        ),
        also=XLSX,
    ),
    Endpoint(
        "/v1/policies/confirm",
        "POST",
        "Serve the version held back because it drops kinds, summaries or windows",
        "Confirm",
        {"type": "object"},
        refusals=("409",),
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
        "/readyz",
        "GET",
        "Readiness: 503 while the files on disk hold a version that failed or is held back",
        None,
        {"type": "object"},
        guarded=False,
    ),
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
        self._sheets = threading.BoundedSemaphore(SHEETS_AT_ONCE)

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
            async with self._body_of(request, endpoint) as body:
                text = await self._work(work, body, rid, dict(request.query_params))
        except timeouts.TimeUp:
            limit = self.options.request_timeout
            message = f"the request's work took over the limit of {limit:g} seconds"
            status, text = 503, self._problem(Problem(503, "time_limit", message), rid)
        except Problem as problem:
            status, text = problem.status, self._problem(problem, rid)
            headers.update(problem.headers)
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
        if isinstance(text, Pieces):
            return StreamingResponse(text.stream(), status, headers, media_type=media)
        return Response(text, status, headers, media_type=media)

    async def _work(
        self, work: Callable[..., Any], body: Any, rid: str, params: dict[str, str]
    ) -> Any:
        """The endpoint's work, within the time limit: short work on the event loop (a
        thread would cost more than it spares the other requests), a large batch in a
        worker thread, and a sheet in one too, one sheet at a time (the memory a report
        takes at its peak stays with the process: it is not handed back whole)."""
        policy = self.holder.current  # read once: this request's policy throughout
        limit = self.options.request_timeout
        timeouts.work_limit(limit)
        if not (isinstance(body, Path) or (isinstance(body, list) and len(body) > INLINE_RECORDS)):
            return work(policy, body, rid, params)

        def heavy() -> Any:
            with self._sheets if isinstance(body, Path) else contextlib.nullcontext():
                return work(policy, body, rid, params)

        try:
            with anyio.fail_after(limit):
                return await anyio.to_thread.run_sync(heavy, abandon_on_cancel=True)
        except TimeoutError:  # the thread stops at its next look at the deadline
            raise timeouts.TimeUp from None

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
        # as bytes: headers arrive as Latin-1, and any text may be in the token
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode("latin-1"), token.encode()
        ):
            raise Problem(
                401,
                "unauthorized",
                "this endpoint needs `Authorization: Bearer TOKEN` with the service's token",
                {"WWW-Authenticate": 'Bearer realm="rules"'},
            )

    @contextlib.asynccontextmanager
    async def _body_of(self, request: Request, endpoint: Endpoint) -> AsyncIterator[Any]:
        """The request's body: a sheet spooled to a temporary file (its path), JSON
        parsed, or None for an endpoint that takes none."""
        if endpoint.body == "Spreadsheet":
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "body"
                with path.open("wb") as out:
                    await self._read(request, out.write)
                yield path
        elif endpoint.body:
            yield await self._body(request)
        else:
            yield None

    async def _body(self, request: Request) -> list[Any] | dict[str, Any]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != JSON and not media.endswith("+json"):
            raise Problem(
                415,
                "unsupported_media_type",
                f"send JSON with `Content-Type: {JSON}`; got `{media or 'none'}`",
                CLOSE,
            )
        chunks: list[bytes] = []
        await self._read(request, chunks.append)
        try:
            data = loads(b"".join(chunks).decode("utf-8"))
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

    async def _read(self, request: Request, sink: Callable[[bytes], Any]) -> None:
        """The body, chunk by chunk, to `sink`: refused (413) as soon as it is over the
        size limit, and (408) if it has not all come within the body timeout."""
        limit, seconds = self.options.max_body, self.options.body_timeout
        too_large = Problem(
            413, "body_too_large", f"the body is over the limit of {limit} bytes", CLOSE
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        size = 0
        try:
            async with asyncio.timeout(seconds):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    sink(chunk)
        except TimeoutError:
            message = f"the body did not arrive within {seconds:g} seconds"
            raise Problem(408, "body_timeout", message, CLOSE) from None
        except ClientDisconnect:
            raise Problem(400, "bad_body", "the client went away before the body ended") from None

    # ── the work of each endpoint (run in a worker thread) ─────────────────
    def evaluate(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> bytes:
        records = body if isinstance(body, list) else [body]
        decided = list(policy.evaluate_json(timeouts.in_time(enumerate(records, 1))))
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

    def needs(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        records = body if isinstance(body, list) else [body]
        out = []
        for n, record in timeouts.in_time(enumerate(records, 1)):
            if isinstance(record, dict):
                out.append({"id": record.get("id", n), **needs(policy, record)})
            else:
                message = "a record must be an object with `kind` and `year`"
                out.append({"id": n, "error": {"code": INVALID, "message": message}})
        self._count("needs", len(records), [e["error"]["code"] for e in out if "error" in e])
        return dumps(out[0]) if isinstance(body, dict) else _array(out)

    def explain(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        records = body if isinstance(body, list) else [body]
        explained = [policy.explain(r, n) for n, r in timeouts.in_time(enumerate(records, 1))]
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

    def report(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> Pieces:
        records = body if isinstance(body, list) else [body]
        answer = Pieces()
        self._report(policy, enumerate(records, 1), rid, "report", answer.item)
        return answer.end()

    def _report(
        self,
        policy: Decides,
        numbered: Iterable[tuple[int, Any]],
        rid: str,
        endpoint: str,
        take: Callable[[dict[str, Any]], Any],
    ) -> None:
        """Each report row to `take`, as it comes. The records are streamed through,
        unless the decision log needs them (and the rows) kept."""
        kept = list(numbered) if self.decisions is not None else None
        read = itertools.count()  # one step per record taken: how many there were
        taken = (item for item, _ in zip(numbered if kept is None else kept, read, strict=False))
        logged: list[dict[str, Any]] = []
        errors = []
        for row in timeouts.in_time(policy.report_numbered(timeouts.in_time(taken))):
            if row["scope"] == "error":
                errors.append(row["error"]["code"])
            if kept is not None:
                logged.append(row)
            take(row)
        self._count(endpoint, next(read), errors)
        if self.decisions is not None and kept is not None:
            timeouts.check()  # past the deadline, nothing is logged: the answer is a 503
            self.decisions.write(_report_entries(policy, rid, kept, logged))

    def upload(
        self, policy: Decides, body: Path, rid: str, params: dict[str, str]
    ) -> Pieces | Reply:
        """A unit's sheet (spooled to `body`), read as `rules report` reads it: its report
        as JSON (with the columns and their labels), or with `?format=xlsx` as the
        report's workbook. Its records are streamed through the report."""
        name = params.get("name") or "upload.xlsx"
        suffix = Path(name).suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise Problem(
                415, "unsupported_media_type", f"send an .xlsx or .csv file; got `{name}`"
            )
        if params.get("format", "json") not in ("json", "xlsx"):
            raise Problem(400, "bad_query", "`format` is `json` (the default) or `xlsx`")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload{suffix}"
            body.replace(path)
            cells = CellReader([m.model for m in policy.members])
            sheet, limit = params.get("sheet") or None, self.options.max_records * 10
            numbered = read_records(path, cells, sheet, limit=limit)
            columns, names = report_columns(policy), labels(policy)
            answer = Pieces(
                dumps({"columns": columns, "labels": names})[:-1].encode() + b', "rows": ['
            )
            out = Path(folder) / "report.xlsx"
            writer = Writer(out, columns, names, True) if params.get("format") == "xlsx" else None
            try:
                take = answer.item if writer is None else writer.write
                self._report(policy, numbered, rid, "report/upload", take)
            except InputError as error:
                message = str(error).replace(str(path), name)
                if isinstance(error, TooManyRows):
                    raise Problem(413, "too_many_records", message) from None
                raise Problem(400, "bad_file", message) from None
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:
                return answer.end(b"]}")
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
        timeouts.check()  # past the deadline, nothing is logged: the answer is a 503
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

    def readiness(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        reason = self.holder.ready()
        if reason is not None:
            raise Problem(503, "not_ready", reason)
        return dumps({"status": "ready", "policy": policy.name, "version": policy.version})

    def confirm(self, policy: Decides, body: Any, rid: str, params: dict[str, str]) -> str:
        """Serve the version held back, named by the body's `version`."""
        version = body.get("version") if isinstance(body, dict) and len(body) == 1 else None
        if not isinstance(version, str):
            raise Problem(400, "bad_body", 'send `{"version": V}`, V held back (/v1/policies)')
        if not self.holder.confirm(version):
            raise Problem(409, "not_held", f"no version `{version}` is held back")
        return dumps(self.holder.describe())

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
            secured, most = self.options.token is not None, self.options.max_records
            text = dumps(document(ENDPOINTS, policy.schema(), title, policy.version, secured, most))
            cached = self._openapi = (policy.version, text)
        return cached[1]

    # ── the application ────────────────────────────────────────────────────
    def app(self) -> Starlette:
        work = {
            "/v1/evaluate": self.evaluate,
            "/v1/report": self.report,
            "/v1/explain": self.explain,
            "/v1/needs": self.needs,
            "/v1/schema": self.schema,
            "/v1/policies": self.policies,
            "/healthz": self.health,
            "/readyz": self.readiness,
            "/v1/policies/confirm": self.confirm,
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
            headers = {**(error.headers or {}), "X-Request-Id": rid}  # a 405's `Allow`
            if "Allow" in headers:  # Starlette lists a route's methods in any order
                headers["Allow"] = ", ".join(sorted(headers["Allow"].split(", ")))
            return Response(text, error.status_code, headers, media_type=JSON)

        return Starlette(
            routes=[*(route(e) for e in ENDPOINTS), Mount("/ui", StaticFiles(directory=UI))],
            exception_handlers={HTTPException: refused},
            middleware=[Middleware(timeouts.SendTimeout, limit=self.options.body_timeout)],
            lifespan=self._lifespan,
        )

    def run(self, host: str, port: int) -> None:
        """Serve on `host`:`port` until SIGTERM, which finishes the requests in flight."""
        import uvicorn

        uvicorn.run(
            self.app(),
            host=host,
            port=port,
            http=timeouts.head_timeout(self.options.header_timeout),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
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
    """One decision per report row: the records it was decided on (for a year row, the
    person's records of that year; for a window, all of them), or the invalid record."""
    at = now()
    failed = _failed(policy, numbered, [r for r in rows if r["scope"] == "error"])
    left_out = {n for n, _ in failed}
    by_person: dict[str, list[Any]] = defaultdict(list)
    for n, record in numbered:
        person = record.get("person") if isinstance(record, dict) else None
        if n not in left_out and isinstance(person, str):
            by_person[person].append(record)
    invalid = iter(None if type(r) is Unreadable else r for _, r in failed)  # no record: null
    entries = []
    for row in rows:
        if row["scope"] == "error":
            given = next(invalid)
        else:
            mine = by_person.get(row["person"], [])
            given = [r for r in mine if year_of(r) == row["year"]] if "year" in row else mine
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


def _failed(
    policy: Decides, numbered: list[tuple[int, Any]], errors: list[dict[str, Any]]
) -> list[tuple[int, Any]]:
    """The (position, record) of each error row, in order. A row names its record by id
    (the record's own if usable, else its position); where records share an id, the
    ones that failed are found by deciding them again."""
    by_id: dict[Any, list[tuple[int, Any]]] = defaultdict(list)
    for n, record in numbered:
        by_id[_error_id(record, n)].append((n, record))
    queues = {}
    for ident, count in Counter(row["id"] for row in errors).items():
        same = by_id.get(ident, [])
        if len(same) != count:
            same = [(n, record) for n, record in same if _fails(policy, record, n)]
        queues[ident] = iter(same)
    return [next(queues[row["id"]], (0, None)) for row in errors]


def _error_id(record: Any, position: int) -> Any:
    """The id an error row gives a record (as `Policy.error_result` does)."""
    ident = record.get("id", position) if isinstance(record, dict) else position
    return ident if usable_id(ident) else position


def _fails(policy: Decides, record: Any, position: int) -> bool:
    """Whether a record gets an error row in a report."""
    try:
        return policy.decide(record, position).person is None
    except RecordError:
        return True


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
    holder = PolicyHolder(paths, options.reload_settle, options.allow_shrink)
    settle()
    return Service(holder, options, decisions)

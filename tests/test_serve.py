"""`rules serve`: every endpoint and every refusal through Starlette's test client; safe
reload; the decision log; and the real server on a loopback port, killed mid-load."""

import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import engine
from engine.service.serve import Options, build

ROOT = Path(__file__).resolve().parent.parent
PAPER = {
    "id": "r1",
    "person": "p1",
    "year": 2021,
    "kind": "paper",
    "venue": "cn_serial",
    "words": 3000,
    "authors": 4,
    "position": 4,
}
POLICY = engine.load()


def client(tmp_path: Path | None = None, policy: str | None = None, **options) -> TestClient:
    log = options.pop("decision_log", None)
    salt = options.pop("salt", None)
    service = build([policy] if policy else None, Options(reload_every=0, **options), log, salt)
    return TestClient(service.app())


@pytest.fixture(scope="module")
def api() -> TestClient:
    with client() as c:
        yield c


# ── endpoints ────────────────────────────────────────────────────────────
def test_evaluate_one_record_as_the_contract_says(api: TestClient) -> None:
    answer = api.post("/v1/evaluate", json=PAPER)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    result = answer.json()
    assert result == POLICY.evaluate(PAPER) | {"trace": result["trace"]}
    assert (result["amount"], result["counted"], result["policy"]) == (3, True, "binzhou")
    assert [s["step"] for s in result["trace"]][-1] == "amount share(total, authors, position)"


def test_evaluate_a_list_keeps_order_and_errors_in_place(api: TestClient) -> None:
    records = [
        PAPER,
        {"year": 2021, "kind": "nothing"},
        "text",
        {**PAPER, "id": "r4", "position": 1},
    ]
    results = api.post("/v1/evaluate", json=records).json()
    assert [r.get("amount", r.get("error", {}).get("code")) for r in results] == [
        3,
        "unknown_kind",
        "invalid_record",
        4,
    ]
    assert [r["id"] for r in results] == ["r1", 2, 3, "r4"]


def test_exact_decimals_both_ways(api: TestClient) -> None:
    body = '{"year": 2019, "kind": "professional_course", "hours": 12.1}'
    answer = api.post("/v1/evaluate", content=body, headers={"content-type": "application/json"})
    assert '"amount": 2.42' in answer.text


def test_a_single_invalid_record_gets_its_error_object(api: TestClient) -> None:
    answer = api.post("/v1/evaluate", json={**PAPER, "position": 9})
    assert answer.status_code == 200
    assert answer.json()["error"]["code"] == "invalid_record"


def test_report(api: TestClient) -> None:
    records = [
        {"person": "p", "year": 2021, "kind": "public_course", "hours": 30},
        {"person": "p", "year": 2021, "kind": "professional_course", "days": 12},
        7,
    ]
    rows = api.post("/v1/report", json=records).json()
    assert rows == POLICY.report(records)
    assert rows[0]["qualified"] is True and rows[1]["scope"] == "error"


def test_explain(api: TestClient) -> None:
    one = api.post("/v1/explain", json=PAPER).json()
    assert one["steps"][-1]["text"] == "结果：3 学时（share(total, authors, position)）"
    many = api.post("/v1/explain", json=[PAPER, {"kind": "paper"}]).json()
    assert many[1]["error"]["code"] == "invalid_record" and many[1]["text"]


def test_schema_policies_and_health(api: TestClient) -> None:
    assert api.get("/v1/schema").json() == json.loads(json.dumps(POLICY.schema()))
    described = api.get("/v1/policies").json()
    [policy] = described["policies"]
    assert (policy["name"], policy["version"]) == ("binzhou", POLICY.version)
    assert policy["years"] == {"first": None, "last": 2021}
    assert described["reload"]["result"] == "ok"
    assert api.get("/healthz").json() == {
        "status": "ok",
        "policy": "binzhou",
        "version": POLICY.version,
    }


def test_openapi_is_made_from_the_code_with_the_record_schema(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0" and doc["info"]["version"] == POLICY.version
    assert set(doc["paths"]) == {
        "/v1/report/upload",
        "/v1/document",
        "/v1/evaluate",
        "/v1/report",
        "/v1/explain",
        "/v1/needs",
        "/v1/schema",
        "/v1/policies",
        "/v1/policies/confirm",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    }
    record = doc["components"]["schemas"]["Record"]
    expected = {k: v for k, v in POLICY.schema().items() if k not in ("$schema", "$id")}
    assert record == json.loads(json.dumps(expected))
    evaluate = doc["paths"]["/v1/evaluate"]["post"]
    assert set(evaluate["responses"]) == {"200", "400", "408", "413", "415", "503"}
    assert "security" not in evaluate  # no token, no security scheme
    assert evaluate["requestBody"]["content"]["application/json"]["schema"]["anyOf"][0] == {
        "$ref": "#/components/schemas/Record"
    }


def test_metrics_in_prometheus_text() -> None:
    with client() as c:
        c.post("/v1/evaluate", json=[PAPER, {"kind": "x", "year": 2021}])
        c.get("/missing")
        text = c.get("/metrics").text
    assert 'rules_requests_total{method="POST",path="/v1/evaluate",status="200"} 1' in text
    assert 'rules_requests_total{method="GET",path="unmatched",status="404"} 1' in text
    assert 'rules_records_total{endpoint="evaluate"} 2' in text
    assert 'rules_record_errors_total{code="unknown_kind",endpoint="evaluate"} 1' in text
    assert 'rules_request_duration_seconds_count{path="/v1/evaluate"} 1' in text
    assert 'rules_request_duration_seconds_bucket{path="/v1/evaluate",le="+Inf"} 1' in text
    assert f'rules_policy_info{{name="binzhou",version="{POLICY.version}"}} 1' in text


# ── refusals ─────────────────────────────────────────────────────────────
def _problem(answer, status: int, code: str) -> str:
    assert answer.status_code == status
    body = answer.json()
    assert body["error"]["code"] == code and body["error"]["status"] == status
    assert "Traceback" not in answer.text
    return body["error"]["message"]


def test_malformed_json_and_a_body_that_is_not_records(api: TestClient) -> None:
    json_type = {"content-type": "application/json"}
    message = _problem(
        api.post("/v1/evaluate", content=b'{"year": ', headers=json_type), 400, "bad_json"
    )
    assert message.startswith("the body is not JSON: Expecting value")
    _problem(api.post("/v1/evaluate", content=b"\xff\xfe", headers=json_type), 400, "bad_json")
    _problem(api.post("/v1/evaluate", content=b"NaN", headers=json_type), 400, "bad_json")
    _problem(api.post("/v1/report", json=5), 400, "bad_body")


def test_wrong_content_type(api: TestClient) -> None:
    message = _problem(
        api.post("/v1/evaluate", content=b"{}", headers={"content-type": "text/csv"}),
        415,
        "unsupported_media_type",
    )
    assert message == "send JSON with `Content-Type: application/json`; got `text/csv`"
    _problem(api.post("/v1/evaluate", content=b"{}"), 415, "unsupported_media_type")


def test_body_over_the_limit_and_too_many_records() -> None:
    with client(max_body=1000, max_records=3) as c:
        message = _problem(c.post("/v1/evaluate", json=[PAPER] * 20), 413, "body_too_large")
        assert message == "the body is over the limit of 1000 bytes"
        message = _problem(c.post("/v1/evaluate", json=[{}] * 4), 413, "too_many_records")
        assert message == "4 records; one request may carry at most 3"
        assert c.post("/v1/evaluate", json=[{}] * 3).status_code == 200


def test_unknown_path_and_method(api: TestClient) -> None:
    assert _problem(api.get("/v2/evaluate"), 404, "not_found") == (
        "no endpoint at `/v2/evaluate`; see /openapi.json"
    )
    _problem(api.put("/v1/evaluate", json={}), 405, "method_not_allowed")


def test_bearer_token_guards_v1_but_not_health() -> None:
    with client(token="s3cret") as c:
        answer = c.post("/v1/evaluate", json=PAPER)
        _problem(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == 'Bearer realm="rules"'
        _problem(
            c.get("/v1/schema", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized"
        )
        ok = c.post("/v1/evaluate", json=PAPER, headers={"Authorization": "Bearer s3cret"})
        assert ok.json()["amount"] == 3
        assert c.get("/healthz").status_code == 200


def test_a_failure_inside_is_a_500_without_a_stack_trace(monkeypatch) -> None:
    with client() as c:
        service_policy = type(POLICY)
        monkeypatch.setattr(service_policy, "evaluate_json", lambda self, r: 1 / 0)
        answer = c.post("/v1/evaluate", json=PAPER)
    message = _problem(answer, 500, "internal")
    assert message == "the service failed; see its log"


def test_a_request_id_is_echoed_or_made(api: TestClient) -> None:
    assert api.get("/healthz", headers={"X-Request-Id": "abc-1"}).headers["x-request-id"] == "abc-1"
    made = api.get("/healthz", headers={"X-Request-Id": "bad id\n"}).headers["x-request-id"]
    assert len(made) == 32


# ── reload ───────────────────────────────────────────────────────────────
TINY = """policy tiny
regime r { years 2020.. unit points }
category c
kind k { n: int }
param bonus = BONUS cite "§1"
rule k { category c cite "§1" amount n + bonus }
"""


def _tiny(folder: Path, bonus: str) -> None:
    (folder / "p.rules").write_text(TINY.replace("BONUS", bonus), encoding="utf-8")
    stamp = time.time_ns() + 10**9 * len(bonus)  # a new modification time, whatever the clock
    os.utime(folder / "p.rules", ns=(stamp, stamp))


def test_reload_swaps_a_good_version_and_keeps_serving_through_a_bad_one(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    _tiny(folder, "1")
    service = build([str(folder)], Options(reload_every=0, reload_settle=0))
    with TestClient(service.app()) as c:
        record = {"kind": "k", "year": 2021, "n": 1}
        first = c.post("/v1/evaluate", json=record).json()
        assert first["amount"] == 2
        assert service.holder.reload_if_changed() is False  # nothing changed
        _tiny(folder, "10")
        assert service.holder.reload_if_changed() is True
        second = c.post("/v1/evaluate", json=record).json()
        assert second["amount"] == 11 and second["version"] != first["version"]
        _tiny(folder, "oops")  # does not check: the old version stays
        assert service.holder.reload_if_changed() is False
        assert c.post("/v1/evaluate", json=record).json()["amount"] == 11
        status = c.get("/v1/policies").json()["reload"]
        assert status["result"] == "failed"
        assert [d["code"] for d in status["diagnostics"]] == ["syntax"]
        assert "p.rules:5:15: error[syntax]: expected `-`, `false`, `true`" in status["message"]
        _tiny(folder, "100")
        assert service.holder.reload_if_changed() is True
        assert c.get("/v1/policies").json()["reload"]["result"] == "ok"
        assert 'rules_policy_reloads_total{result="failed"} 1' in c.get("/metrics").text


def test_no_request_sees_a_half_loaded_policy(tmp_path: Path) -> None:
    """Requests race reloads that flip the bonus; every answer is wholly one version."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    _tiny(folder, "1")
    service = build([str(folder)], Options(reload_every=0, reload_settle=0))
    versions: dict[str, int] = {}
    stop = threading.Event()

    def flip() -> None:
        bonus = 1
        while not stop.is_set():
            bonus = 1 if bonus == 1000 else 1000
            _tiny(folder, str(bonus))
            service.holder.reload_if_changed()
            current = service.holder.current
            versions[current.version] = bonus

    versions[service.holder.current.version] = 1
    flipper = threading.Thread(target=flip)
    with TestClient(service.app()) as c:
        flipper.start()
        try:
            answers = [
                c.post("/v1/evaluate", json=[{"kind": "k", "year": 2021, "n": 5}] * 50).json()
                for _ in range(30)
            ]
        finally:
            stop.set()
            flipper.join()
    assert len(versions) >= 2
    for batch in answers:
        assert len({r["version"] for r in batch}) == 1
        assert {r["amount"] for r in batch} == {5 + versions[batch[0]["version"]]}


# ── the decision log ─────────────────────────────────────────────────────
def _log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_decision_is_a_line(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    with client(decision_log=log) as c:
        c.post("/v1/evaluate", json=[PAPER, "bad"], headers={"X-Request-Id": "req-1"})
        c.post(
            "/v1/report",
            json=[PAPER, {**PAPER, "id": "r2", "year": 2019}],
            headers={"X-Request-Id": "req-2"},
        )
    lines = _log_lines(log)
    assert [(x["request_id"], x["endpoint"]) for x in lines] == [
        ("req-1", "evaluate"),
        ("req-1", "evaluate"),
        ("req-2", "report"),
        ("req-2", "report"),
        ("req-2", "report"),
        ("req-2", "report"),
    ]
    first = lines[0]
    assert first["input"] == PAPER and first["result"]["amount"] == 3
    assert (first["policy"], first["version"]) == ("binzhou", POLICY.version)
    assert first["time"].endswith("Z") and first["result"]["trace"]
    assert lines[1]["input"] == "bad" and lines[1]["result"]["error"]["code"] == "invalid_record"
    years = [x for x in lines if x["result"].get("scope") == "year"]
    assert [(x["result"]["year"], [r["id"] for r in x["input"]]) for x in years] == [
        (2019, ["r2"]),
        (2021, ["r1"]),
    ]


def test_person_is_hashed_with_the_salt(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    salt = b"pepper"
    with client(decision_log=log, salt=salt) as c:
        assert c.post("/v1/evaluate", json=PAPER).json()["person"] == "p1"  # the answer keeps it
    [line] = _log_lines(log)
    expected = "hmac-sha256:" + hmac.new(salt, b"p1", hashlib.sha256).hexdigest()
    assert line["input"]["person"] == expected and line["result"]["person"] == expected
    assert "p1" not in log.read_text(encoding="utf-8").replace(expected, "")


def test_a_salt_file_is_made_once(tmp_path: Path) -> None:
    from engine.service.decisionlog import read_salt

    path = tmp_path / "log.salt"
    first = read_salt(path)
    assert len(first) == 64 and read_salt(path) == first
    assert path.stat().st_mode & 0o777 == 0o600


# ── the real server ──────────────────────────────────────────────────────
def _post(port: int, path: str, body: object, rid: str) -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST", path, json.dumps(body), {"Content-Type": "application/json", "X-Request-Id": rid}
    )
    answer = conn.getresponse()
    data = json.loads(answer.read())
    conn.close()
    return answer.status, data


def test_the_real_server_over_http(tmp_path: Path, serve) -> None:
    draft = str(ROOT / "policies" / "examples" / "binzhou-2022-draft")
    server, port = serve("--policy", str(ROOT / "policies" / "binzhou"), "--policy", draft)
    try:
        status, results = _post(port, "/v1/evaluate", [PAPER, {**PAPER, "year": 2022}], "x")
        assert status == 200
        assert [(r["amount"], r["policy"]) for r in results] == [
            (3, "binzhou"),
            (2, "binzhou_2022_draft"),
        ]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/v1/policies")
        described = json.loads(conn.getresponse().read())
        assert [p["name"] for p in described["policies"]] == ["binzhou", "binzhou_2022_draft"]
        assert described["set"]["name"] == "binzhou+binzhou_2022_draft"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_killed_mid_load_loses_no_acknowledged_decision(tmp_path: Path, serve) -> None:
    log = tmp_path / "decisions.jsonl"
    server, port = serve("--decision-log", str(log))
    acknowledged: list[tuple[str, object]] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            rid = f"w{worker}-{n}"
            batch = [{**PAPER, "id": f"{rid}-{i}"} for i in range(20)]
            try:
                status, results = _post(port, "/v1/evaluate", batch, rid)
            except (OSError, http.client.HTTPException, json.JSONDecodeError):
                return  # the server is gone: this request was not acknowledged
            assert status == 200
            acknowledged.extend((rid, r["id"]) for r in results)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    time.sleep(1.5)
    server.kill()  # SIGKILL, mid-load
    server.wait(timeout=10)
    stop.set()
    for w in workers:
        w.join(timeout=30)
    assert len(acknowledged) > 100
    from engine.service.decisionlog import DecisionLog

    before = log.read_bytes()
    DecisionLog(log).close()  # as the service does when it starts again
    after = log.read_bytes()
    assert before.startswith(after) and b"\n" not in before[len(after) :]  # at most one line cut
    logged = {(x["request_id"], x["result"]["id"]) for x in _log_lines(log)}  # every line parses
    missing = [a for a in acknowledged if a not in logged]
    assert missing == []


def test_serve_refuses_a_policy_that_does_not_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(ROOT / "tests" / "check" / "base", bad)
    (bad / "base.rules").write_text(
        "policy x\nregime r { years 2020.. unit u }\nkind k {", encoding="utf-8"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "serve",
            "--policy",
            str(bad),
            "--port",
            "0",  # it stops before it listens
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "error[unexpected-end]" in done.stderr


def test_the_service_json_is_what_dumps_writes_of_each_result() -> None:
    """`evaluate_json` (cached result tails) writes the very bytes `dumps` writes."""
    sys.path.insert(0, str(ROOT / "bench"))
    from evaluate import stream

    from engine.running.jsonout import dumps

    records = [*stream(30_000, 3_000), "text", {"kind": "micro_course", "year": 2021}]
    for policy in (
        POLICY,
        engine.load(
            [ROOT / "policies" / "binzhou", ROOT / "policies" / "examples" / "binzhou-2022-draft"]
        ),
    ):
        expected = [dumps(r).encode() for r in policy.evaluate_many(records)]
        written = [text for text, _, _ in policy.evaluate_json(enumerate(records, 1))]
        assert written == expected


# ── the page's endpoints ─────────────────────────────────────────────────
SHEET = ROOT / "examples" / "unit-2021.xlsx"


def test_a_units_sheet_is_reported_as_json_and_as_a_workbook(api: TestClient, tmp_path) -> None:
    body = SHEET.read_bytes()
    report = api.post("/v1/report/upload?name=unit-2021.xlsx", content=body).json()
    from engine.io.cells import CellReader
    from engine.io.inputs import read_records

    expected = list(POLICY.report_numbered(read_records(SHEET, CellReader([POLICY.model]))))
    assert report["rows"] == json.loads(json.dumps(expected))
    assert report["columns"][:3] == ["scope", "person", "year"]
    assert report["labels"]["shortfall.public"] == "公需缺口"
    answer = api.post("/v1/report/upload?name=unit-2021.xlsx&format=xlsx", content=body)
    assert answer.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert answer.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''unit-2021-report.xlsx"
    )
    book = tmp_path / "report.xlsx"
    book.write_bytes(answer.content)
    import openpyxl

    sheets = openpyxl.load_workbook(book)
    errors = [r for r in expected if r["scope"] == "error"]
    assert sheets["errors"].max_row == 1 + len(errors) == 6


def test_a_sheet_that_is_not_one(api: TestClient) -> None:
    assert (
        _problem(
            api.post("/v1/report/upload?name=a.pdf", content=b"%PDF"), 415, "unsupported_media_type"
        )
        == "send an .xlsx or .csv file; got `a.pdf`"
    )
    assert (
        _problem(api.post("/v1/report/upload?name=a.xlsx", content=b"not a zip"), 400, "bad_file")
        == "`a.xlsx` is not an .xlsx workbook: File is not a zip file"
    )


def test_the_page_its_files_and_the_document(api: TestClient) -> None:
    page = api.get("/")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script src="/ui/app.js" defer></script>' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no outside resource
    script = api.get("/ui/app.js").text
    assert "binzhou" not in script.lower() and "滨州" not in script
    assert api.get("/ui/app.css").status_code == 200
    document = api.get("/v1/document")
    assert document.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>滨州市 2021 年度专业技术人员继续教育（<code>binzhou</code>）</h1>" in document.text


def test_an_unfinished_last_line_is_cut_when_the_log_opens(tmp_path) -> None:
    from engine.service.decisionlog import DecisionLog

    log = tmp_path / "decisions.jsonl"
    log.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": ')
    opened = DecisionLog(log)
    assert opened.dropped == 6
    opened.write([{"time": "t", "request_id": "r", "input": {}, "result": {"d": 4}}])
    opened.close()
    assert [json.loads(line) for line in log.read_text().splitlines()][-1]["result"] == {"d": 4}
    assert log.read_text().splitlines()[:2] == ['{"a": 1}', '{"b": 2}']


def test_needs_says_what_a_record_being_filled_in_lacks(api: TestClient) -> None:
    partial = {"id": "n1", "kind": "degree", "year": 2021}
    answer = api.post("/v1/needs", json=partial)
    assert answer.status_code == 200
    choices = {"True": 20, "False": "not counted: not_passed"}
    assert answer.json() == {
        "id": "n1", "needed": ["passed"], "matters": ["passed"], "unit": "hours",
        "next": "passed", "choices": choices,
    }  # fmt: skip
    many = api.post("/v1/needs", json=[partial, 7, {"kind": ["x"], "year": 2021}])
    assert [n.get("needed") for n in many.json()] == [["passed"], None, []]
    assert many.json()[1]["error"]["code"] == "invalid_record"

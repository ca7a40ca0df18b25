"""Records that broke the engine's edges, each as it was found: no input loses a record."""

import json
import subprocess
import sys
from pathlib import Path

from starlette.testclient import TestClient

import engine
from engine.service.serve import Options, build

CORPUS = Path(__file__).parent / "corpus" / "records"
SURROGATES = CORPUS / "surrogates.jsonl"


def _rules(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], capture_output=True, timeout=120, check=False
    )


def test_a_lone_surrogate_loses_no_record_in_rules_eval() -> None:
    """24 lines in, 10 out, then a traceback: now every line gets its result or error."""
    lines_in = SURROGATES.read_bytes().count(b"\n")
    done = _rules("eval", str(SURROGATES))
    assert b"Traceback" not in done.stderr and done.returncode == 1
    out = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert len(out) == lines_in == 9
    assert [r.get("amount") for r in out] == [3, None, None, None, None, None, None, 3, 3]
    assert out[1] == {
        "id": 2,
        "error": {
            "code": "invalid_record",
            "message": '`id` must be a text; got "\\ud800" (a text)',
            "field": "id",
        },
        "policy": "binzhou",
        "version": engine.load().version,
    }


def test_a_lone_surrogate_loses_no_record_in_rules_report() -> None:
    done = _rules("report", str(SURROGATES))
    assert b"Traceback" not in done.stderr and done.returncode == 1
    rows = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    errors = [r for r in rows if r["scope"] == "error"]
    assert [r["id"] for r in errors] == [2, "s-person", "s-kind", "s-member", "s-key", "s-year"]
    (year,) = [r for r in rows if r["scope"] == "year"]
    assert year["person"] == "p1"


def test_a_lone_surrogate_is_an_error_in_place_in_the_service() -> None:
    """`/v1/evaluate`, `/v1/report` and `/v1/explain` answered 500 for the whole request."""
    records = [json.loads(line) for line in SURROGATES.read_text(encoding="utf-8").splitlines()]
    body = json.dumps(records)  # ASCII: the surrogates travel as `\ud800` escapes
    headers = {"Content-Type": "application/json"}
    service = build(None, Options(reload_every=0), None, None)
    with TestClient(service.app()) as api:
        for endpoint in ("/v1/evaluate", "/v1/report", "/v1/explain"):
            answer = api.post(endpoint, content=body, headers=headers)
            assert answer.status_code == 200, (endpoint, answer.text)
        results = api.post("/v1/evaluate", content=body, headers=headers).json()
    assert [r.get("amount") for r in results] == [3, None, None, None, None, None, None, 3, 3]

"""The defects that led to the checked tree and the builtin table, each as it was found."""

import json
from pathlib import Path

import pytest

import engine
from engine.running.compile import EvaluationError, located
from engine.syntax.ast import Span
from engine.tools.cli import main

HEAD = 'policy p\nregime hours { years 2020..2021 unit hours cite "§1" }\ncategory c\n'
LIKE = HEAD + (
    "param limit = 5\n"
    "kind a { n: int require n <= limit }\n"
    "kind b like a { limit: int }\n"
    'rule a { category c cite "§2" amount n }\n'
    'rule b { category c cite "§3" amount n }\n'
)


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.rules"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_kind_like_another_checks_its_requires_in_its_own_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rules check` said ok, then `rules eval` of a kind `a` record died with KeyError."""
    path = _policy(tmp_path, LIKE)
    assert main(["check", str(path)]) == 0
    records = [
        {"id": "a-ok", "year": 2021, "kind": "a", "n": 3},
        {"id": "a-over", "year": 2021, "kind": "a", "n": 6},
        {"id": "b-ok", "year": 2021, "kind": "b", "n": 6, "limit": 7},
        {"id": "b-over", "year": 2021, "kind": "b", "n": 6, "limit": 2},
    ]
    monkeypatch.setattr("sys.stdin", _stdin("\n".join(json.dumps(r) for r in records)))
    capsys.readouterr()
    assert main(["eval", "--policy", str(path)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("amount") for r in lines] == [3, None, 6, None]
    # `a` compares with the parameter, `b` with its own field
    assert lines[1]["error"]["message"] == "`n <= limit` must hold, but n is 6"
    assert lines[3]["error"]["message"] == "`n <= limit` must hold, but n is 6, limit is 2"


def test_a_function_named_like_a_builtin_is_refused(tmp_path: Path) -> None:
    """`function floor(…)` checked clean, and `floor(1)` silently called the builtin."""
    path = _policy(
        tmp_path,
        HEAD
        + "function floor(x: int) -> int { return x + 100 }\n"
        + 'kind k { n: int }\nrule k { category c cite "§2" amount floor(n) }\n',
    )
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(path)
    (diag,) = caught.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.column) == ("reserved-name", 4, 1)
    assert diag.message == "`floor` is a builtin and cannot name a declaration"


def test_an_unexpected_failure_at_run_time_is_located() -> None:
    """Whatever a compiled program did not expect surfaces as a located `EvaluationError`
    (a `RecordError` in place of the record; a JSON error in the service)."""
    span = Span("p.rules", 7, 3, 7, 20)

    def broken(env: dict, trace: list) -> None:
        raise KeyError("limit")

    run = located(broken, span, "rule `a`")
    with pytest.raises(EvaluationError) as caught:
        run({}, [])
    assert str(caught.value) == "p.rules:7:3: rule `a` could not be evaluated (KeyError: 'limit')"


def test_arithmetic_faults_name_their_expression(tmp_path: Path) -> None:
    path = _policy(
        tmp_path, HEAD + 'kind k { n: number }\nrule k { category c cite "§2" amount n // 0.0 }\n'
    )
    (result,) = engine.load(path).evaluate_many([{"id": "x", "year": 2021, "kind": "k", "n": 1}])
    assert result["error"]["code"] == "evaluation_error"
    assert result["error"]["message"].endswith("p.rules:5:38: `n // 0.0`: division by zero")


def _stdin(text: str):  # a stand-in for sys.stdin with a binary buffer
    import io

    return io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")

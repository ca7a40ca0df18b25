"""The defects that led to the checked tree and the builtin table, each as it was found."""

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


def test_a_field_named_like_a_parameter_is_refused_where_it_crashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rules check` said ok, then `rules eval` of a kind `a` record died with KeyError:
    `b`'s field `limit` silently took the place of the parameter in `a`'s `require`."""
    path = _policy(tmp_path, LIKE)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(
        "p.rules:6:17: error[duplicate]: field `limit` has the name of the parameter `limit`"
    )


def test_a_kind_like_another_gets_its_own_checked_requires(tmp_path: Path) -> None:
    """The same `require`, checked in each kind's scope, gives each its own meaning: in
    `b` a name the `require` reads as a member is `b`'s own field, and that is a located
    diagnostic at the `require`, not a silent change."""
    path = _policy(
        tmp_path,
        HEAD
        + 'enum venue { cn "刊号"  none "无" }\n'
        + "kind a { venue: venue  require venue != none }\n"
        + "kind b like a { none: int }\n"
        + 'rule a { category c cite "§2" amount 1 }\n'
        + 'rule b { category c cite "§3" amount 2 }\n',
    )
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(path)
    (diag,) = caught.value.diagnostics
    assert (diag.code, diag.span.line, diag.message) == (
        "type",
        5,
        "cannot compare `venue` with an integer",
    )
    kinds = engine.load(
        _policy(
            tmp_path,
            HEAD + "kind a { n: int  require n <= 3 }\n"
            "kind b like a { m: int }\n"
            'rule a { category c cite "§2" amount n }\n'
            'rule b { category c cite "§3" amount n + m }\n',
        )
    ).model.kinds
    ((a_require, a_node),) = kinds["a"].conditions
    ((b_require, b_node),) = kinds["b"].conditions
    assert a_require is b_require and a_node is not b_node  # one `require`, two checked copies


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

"""`rules fmt`: one canonical layout that never changes meaning."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.syntax.diagnostics import display_width
from engine.syntax.format import format_module
from engine.syntax.parse import PolicySyntaxError, parse
from engine.tools.cli import main

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {}
for path in sorted([*ROOT.glob("policies/**/*.rules"), *ROOT.glob("tests/**/*.rules")]):
    text = path.read_text(encoding="utf-8")
    try:
        parse(text, str(path))
    except PolicySyntaxError:
        continue  # the syntax-error programs of tests/check
    SOURCES[path.name + ":" + path.parent.name] = text


def fmt(source: str) -> str:
    return format_module(parse(source, "t.rules"), source)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_formatting_keeps_meaning_comments_and_is_stable(name: str) -> None:
    source = SOURCES[name]
    once = fmt(source)
    assert parse(once, "t.rules").declarations == parse(source, "t.rules").declarations
    assert len(parse(once, "t.rules").comments) == len(parse(source, "t.rules").comments)
    assert fmt(once) == once


def test_the_bundled_policy_is_formatted() -> None:
    assert main(["fmt", "--check", str(ROOT / "policies")]) == 0


def _respace(source: str, choices: list[str]) -> str:
    """`source` with its spaces and newlines outside texts and comments replaced."""
    out, quoted, comment, n = [], False, False, 0
    for ch in source:
        if comment:
            comment = ch != "\n"
        elif ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            comment = True
        if ch in " \n" and not quoted and not comment:
            ch = choices[n % len(choices)] if ch == " " else "\n" + choices[n % len(choices)]
            n += 1
        out.append(ch)
    return "".join(out)


@given(
    st.sampled_from(sorted(SOURCES)),
    st.lists(st.sampled_from([" ", "  ", "\t", " \n "]), min_size=1, max_size=6),
)
@settings(max_examples=60, deadline=None)
def test_any_layout_formats_to_the_same_meaning(name: str, choices: list[str]) -> None:
    source = _respace(SOURCES[name], choices)
    once = fmt(source)
    assert parse(once, "t.rules").declarations == parse(source, "t.rules").declarations
    assert fmt(once) == once


def test_grids_are_aligned_with_wide_characters_counted_twice() -> None:
    source = (
        'table t(level) -> int "表" cite "x" {\n'
        "| 级别 | 学时 |\n| county | 15 |\n| 地市级 | 5 |\n}\n"
    )
    rows = [line for line in fmt(source).splitlines() if line.strip().startswith("|")]
    assert rows == ["    | 级别   | 学时 |", "    | county | 15   |", "    | 地市级 | 5    |"]
    assert len({display_width(r) for r in rows}) == 1


def test_comments_stay_where_they_were() -> None:
    source = (
        "# 参数\n\nparam a = 1   # 行尾说明\n# 下一个\nparam b = 2\n"
        'rule k { category c cite "x"\n  # 先说明\n  let x = a  # 尾注\n amount x }\n'
    )
    assert fmt(source) == (
        "# 参数\n\nparam a = 1  # 行尾说明\n# 下一个\nparam b = 2\n\n"
        'rule k {\n    category c\n    cite "x"\n    # 先说明\n    let x = a  # 尾注\n'
        "    amount x\n}\n"
    )


def test_check_and_diff_change_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.rules"
    path.write_text("param   a   =   1\n", encoding="utf-8")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"would reformat {path}\n"
    assert main(["fmt", "--diff", str(path)]) == 1
    assert "-param   a   =   1\n+param a = 1\n" in capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == "param   a   =   1\n"
    assert main(["fmt", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == "param a = 1\n"


NAMES = st.sampled_from(["a", "b", "words", "级别", "x1", "total"])
NUMBERS = st.one_of(st.integers(0, 10_000), st.decimals(0, 100, places=2)).map(str)


def expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(NAMES, NUMBERS, st.just("true"), st.just("level.national"))

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        op = st.sampled_from(["+", "-", "*", "/", "//", "%", "and", "or", "<", ">=", "=="])
        return st.one_of(
            st.tuples(inner, op, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
            st.tuples(NAMES, inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(NAMES, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            inner.map(lambda e: f"(not {e})"),
            inner.map(lambda e: f"(-{e})"),
        )

    return st.recursive(leaves, grow, max_leaves=8)


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Small random programs: a table grid, a kind and a rule with random expressions."""
    rows = draw(st.lists(st.tuples(NAMES, NUMBERS), min_size=1, max_size=4))
    grid = "\n".join(f"|{k}|{v}|" for k, v in rows)
    lets = "\n".join(
        f"let v{i} = {e}" for i, e in enumerate(draw(st.lists(expressions(), max_size=3)))
    )
    comment = draw(st.sampled_from(["", "  # 说明", "\n# 整行注释\n"]))
    return (
        f'table t(level) -> int "表" cite "x" {{ | 级别 | 值 |{comment}\n{grid} }}\n'
        f"kind k {{ n: int >= {draw(NUMBERS)} }}{comment}\n"
        f'rule k {{ category c cite "x"\n{lets}\nwhen {draw(expressions())} then '
        f"{draw(expressions())}{comment}\namount {draw(expressions())} }}\n"
    )


@given(programs())
@settings(max_examples=150, deadline=None)
def test_generated_programs_format_to_the_same_meaning(source: str) -> None:
    once = fmt(source)
    assert parse(once, "t.rules").declarations == parse(source, "t.rules").declarations
    assert len(parse(once, "t.rules").comments) == len(parse(source, "t.rules").comments)
    assert fmt(once) == once

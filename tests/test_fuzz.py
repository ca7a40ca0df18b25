"""Fuzzing: no policy text and no record crashes the engine, hangs it, or loses a record.

Policies: mutations of the real policy's files (tokens deleted, doubled and swapped;
full-width punctuation; a BOM, CRLF, tabs; cut short) and programs generated from the
syntax tree and printed. Loading ends, quickly, in a `Policy` or an `engine.PolicyError`
whose diagnostics are located and render. Records: any JSON value for any field, and
any line of bytes in a JSON Lines file; N records in, N results out, in order.
"""

import io
import json
import re
import time
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.io.inputs import json_lines
from engine.pipeline.policy import from_sources
from engine.running.jsonout import dumps
from engine.running.records import INVALID, NO_POLICY, UNKNOWN_KIND
from engine.syntax import ast
from engine.syntax.diagnostics import PolicyError
from engine.syntax.format import declaration

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    str(p): p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "policies" / "binzhou").glob("*.rules"))
}
POLICY = engine.load()
UNLOCATED = {"no-regime"}  # said of the policy as a whole
CODES = {INVALID, UNKNOWN_KIND, NO_POLICY, "evaluation_error"}
TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
FULL_WIDTH = {",": "，", ":": "：", "(": "（", ")": "）", "[": "【", "]": "】", '"': "“", "|": "｜"}


def _load(sources: dict[str, str]) -> None:
    """Load; only a policy or a located `PolicyError` may come out, within seconds."""
    started = time.monotonic()
    try:
        from_sources(sources, "fuzzed")
    except PolicyError as error:
        assert error.diagnostics
        for d in error.diagnostics:
            assert d.span is not None or d.code in UNLOCATED, d
        assert str(error)  # every diagnostic renders
    assert time.monotonic() - started < 20


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, str]:
    name = draw(st.sampled_from(sorted(FILES)))
    tokens = TOKEN.findall(FILES[name])
    for _ in range(draw(st.integers(1, 4))):
        if not tokens:
            break
        at = draw(st.integers(0, len(tokens) - 1))
        how = draw(st.sampled_from(["delete", "double", "swap", "full-width", "insert"]))
        if how == "delete":
            del tokens[at]
        elif how == "double":
            tokens.insert(at, tokens[at])
        elif how == "swap" and at + 1 < len(tokens):
            tokens[at], tokens[at + 1] = tokens[at + 1], tokens[at]
        elif how == "full-width":
            tokens[at] = "".join(FULL_WIDTH.get(c, c) for c in tokens[at])
        elif how == "insert":
            tokens.insert(
                at,
                draw(
                    st.sampled_from(
                        [
                            "{",
                            "}",
                            "|",
                            "—",
                            "(",
                            "\x00",
                            "é",
                            "1e5",
                            "9" * 40,
                            "\u200b",
                            "if",
                            "then",
                            '"',
                        ]
                    )
                ),
            )
    text = "".join(tokens)
    layout = draw(st.sampled_from(["", "bom", "crlf", "tabs", "cut"]))
    if layout == "bom":
        text = "\ufeff" + text
    elif layout == "crlf":
        text = text.replace("\n", "\r\n")
    elif layout == "tabs":
        text = text.replace("    ", "\t")
    elif layout == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return {**FILES, name: text}


@given(mutated())
def test_a_mutated_policy_loads_or_says_where_it_is_wrong(sources: dict[str, str]) -> None:
    _load(sources)


# ── programs generated from the syntax tree ──────────────────────────────
SPAN = ast.Span("generated.rules", 1, 1, 1, 2)
FIELDS = ["a", "b", "c"]


def _expressions() -> st.SearchStrategy[ast.Expr]:
    leaves = st.one_of(
        st.sampled_from([*FIELDS, "bonus"]).map(lambda n: ast.Name(n, span=SPAN)),
        st.integers(0, 10**6).map(lambda v: ast.Number(v, span=SPAN)),
        st.decimals(0, 1000, places=3).map(lambda v: ast.Number(v, span=SPAN)),
    )

    def grow(inner: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
        ops = st.sampled_from(["+", "-", "*", "/", "//", "%"])
        compare = st.sampled_from(["<", "<=", "==", "!=", ">=", ">"])
        return st.one_of(
            st.builds(lambda o, x, y: ast.Binary(o, x, y, span=SPAN), ops, inner, inner),
            st.builds(
                lambda o, x, y, t, e: ast.If(ast.Compare(o, x, y, span=SPAN), t, e, span=SPAN),
                compare,
                inner,
                inner,
                inner,
                inner,
            ),
            st.builds(
                lambda f, x, y: ast.Call(f, (x, y), span=SPAN),
                st.sampled_from(["min", "max"]),
                inner,
                inner,
            ),
            st.builds(lambda x: ast.Call("floor", (x,), span=SPAN), inner),
            st.builds(lambda x: ast.Unary("-", x, span=SPAN), inner),
        )

    return st.recursive(leaves, grow, max_leaves=12)


@st.composite
def generated(draw: st.DrawFn) -> str:
    lets = draw(st.lists(_expressions(), max_size=3))
    body = tuple(ast.Let(f"v{i}", e, None, span=SPAN) for i, e in enumerate(lets))
    result = draw(_expressions())
    cite = ast.Cite(((None, "§1"),), span=SPAN)
    declarations = [
        ast.PolicyDecl("generated", None, span=SPAN),
        ast.Regime("r", None, 2020, None, "points", None, None, span=SPAN),
        ast.Category("c", None, span=SPAN),
        ast.Param("bonus", None, ast.Number(draw(st.integers(0, 100)), span=SPAN), cite, span=SPAN),
        ast.Kind(
            "k",
            None,
            None,
            tuple(
                ast.FieldDecl(f, None, False, ast.TypeSpec("int", span=SPAN), None, span=SPAN)
                for f in FIELDS
            ),
            (),
            span=SPAN,
        ),
        ast.Rule("k", (), None, "c", cite, body, result, span=SPAN),
    ]
    return "\n".join(line for decl in declarations for _, line in declaration(decl)) + "\n"


@given(generated(), st.lists(st.tuples(*(st.integers(-(10**15) + 1, 10**15 - 1),) * 3), max_size=5))
def test_a_generated_program_loads_and_evaluates_or_says_why(source: str, values: list) -> None:
    _load({"generated.rules": source})
    try:
        policy = from_sources({"generated.rules": source}, "generated")
    except PolicyError:
        return
    records = [{"kind": "k", "year": 2021, **dict(zip(FIELDS, v, strict=True))} for v in values]
    results = list(policy.evaluate_many(records))
    assert len(results) == len(records)
    for result in results:
        assert "amount" in result or result["error"]["code"] in CODES


# ── records ──────────────────────────────────────────────────────────────
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=50),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.sampled_from(
            [
                Decimal("1e999999"),
                Decimal("-0"),
                Decimal("1e-999999"),
                10**1000,
                "12",
                "三",
                "x" * 100_000,
                float("nan"),
                float("inf"),
                -0.0,
            ]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELD_NAMES = sorted({f for kind in POLICY.model.kinds.values() for f in kind.fields})


@st.composite
def records(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)  # not an object at all
    kind = draw(st.sampled_from([*POLICY.model.kinds, "论文", "nothing", None]))
    record = {"kind": kind, "year": draw(st.one_of(st.integers(1990, 2030), JSON))}
    for name in draw(
        st.lists(st.sampled_from([*FIELD_NAMES, "id", "person", "extra"]), max_size=6)
    ):
        record[name] = draw(JSON)
    return record


@given(st.lists(records(), max_size=8))
def test_any_records_give_one_result_each_in_order(batch: list) -> None:
    results = list(POLICY.evaluate_many(batch))
    assert len(results) == len(batch)
    for n, (record, result) in enumerate(zip(batch, results, strict=True), 1):
        if "error" in result:
            assert result["error"]["code"] in CODES and result["error"]["message"]
        given_id = record.get("id", n) if isinstance(record, dict) else n
        # a given id is a text (the contract's); any other gives the record's position
        usable = isinstance(given_id, str) and not any(0xD800 <= ord(c) <= 0xDFFF for c in given_id)
        assert result["id"] == (given_id if usable else n)
        dumps(result).encode("utf-8")  # every result can be written, as UTF-8
    rows = POLICY.report(batch)
    assert sum(1 for r in rows if r["scope"] == "error") <= len(batch)


# records written by the standard library, so that NaN and Infinity come out as such
LINES = st.one_of(
    st.binary(max_size=60), records().map(lambda r: json.dumps(r, default=str).encode())
)


@given(st.lists(LINES, max_size=10))
def test_any_json_lines_file_gives_one_result_per_line(lines: list[bytes]) -> None:
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    results = list(POLICY.evaluate_numbered(json_lines(io.BytesIO(b"\n".join(lines)))))
    numbers = [n for n, line in enumerate(lines, 1) if line.strip(b" \t\r\n")]  # JSON blanks
    assert len(results) == len(numbers)
    for n, result in zip(numbers, results, strict=True):
        if "error" in result and result["error"]["message"].startswith("line "):
            assert result["id"] == n  # an unreadable line is named by its number


def test_a_boolean_is_never_a_number() -> None:
    record = {"kind": "award", "year": 2021, "level": "national", "tier": "first", "rank": True}
    [result] = POLICY.evaluate_many([record])
    assert result["error"] == {
        "code": "invalid_record",
        "field": "rank",
        "message": "`rank` must be an integer >= 1; got true",
    }

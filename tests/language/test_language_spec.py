"""The language specification as programs: every `.rules` program in `tests/language/`.

Each program says what it must do in comments beside its lines (`README.md` describes
them): `# eval:`, `# result:`, `# trace:` and `# report:` run records through the loaded
policy, and `### error[CODE]` says that the policy is refused with that diagnostic on that
line, no other diagnostic being reported. One test per record expectation; one per program
that must be refused. Only the public API (`engine.load`, `Policy`) is used.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import engine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DIRECTIVE = re.compile(r"#\s*(eval|result|trace|report|defaults|xfail):\s*(.*)$")
ERROR = re.compile(r"error\[([a-z-]+)\](?:\s*@col\s+(\d+))?(?:\s*:\s*(.*))?$")
OUTCOME = re.compile(r"not counted \w+|error [a-z_]+(?::.*)?")


# ── reading programs ─────────────────────────────────────────────────────


@dataclass(frozen=True)
class Expected:
    """A diagnostic a program must get: its place, code, and optionally column and text."""

    file: Path
    line: int
    code: str
    column: int | None
    text: str | None  # part of the message or of the help
    xfail: str | None

    def matches(self, d: engine.Diagnostic) -> bool:
        span = d.span
        return (
            span is not None
            and Path(span.file).resolve() == self.file
            and span.line == self.line
            and d.code == self.code
            and (self.column is None or span.column == self.column)
            and (self.text is None or self.text in f"{d.message}\n{d.help or ''}")
        )

    def __str__(self) -> str:
        column = "" if self.column is None else f" @col {self.column}"
        text = "" if self.text is None else f": {self.text}"
        return f"{place(self.file, self.line)}: error[{self.code}]{column}{text}"


@dataclass(frozen=True)
class Run:
    """A directive that runs records: which, where, the record(s), and what must come."""

    what: str  # eval, result, trace or report
    file: Path
    line: int
    records: Any
    expected: str  # as written after `=>`
    xfail: str | None


@dataclass
class Program:
    """A `.rules` file, or a folder of them (with the policies it extends inside)."""

    path: Path
    runs: list[Run] = field(default_factory=list)
    errors: list[Expected] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # expectations that cannot be read

    @property
    def files(self) -> list[Path]:
        return sorted(self.path.rglob("*.rules")) if self.path.is_dir() else [self.path]


def place(file: Path, line: int) -> str:
    return f"{file.relative_to(ROOT)}:{line}"


def split_comment(line: str) -> tuple[str, str | None]:
    """A line's code, and its comment (from the first `#` outside a text) if any."""
    quoted = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif quoted:
            escaped, quoted = ch == "\\", ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "#":
            return line[:i], line[i:]
    return line, None


def decode(text: str) -> Any:
    """JSON, its decimals exact."""
    return json.loads(text, parse_float=Decimal)


def with_defaults(records: Any, defaults: dict[str, Any]) -> Any:
    if isinstance(records, list):
        return [{**defaults, **r} if isinstance(r, dict) else r for r in records]
    return {**defaults, **records} if isinstance(records, dict) else records


def read_errors(program: Program, file: Path, line: int, comment: str, xfail: str | None) -> None:
    for part in comment.split("###")[1:]:
        found = ERROR.match(part.strip())
        if found is None:
            program.problems.append(f"{place(file, line)}: not `error[CODE]`: {part.strip()}")
            continue
        code, column, text = found.groups()
        column_ = int(column) if column else None
        program.errors.append(Expected(file, line, code, column_, text, xfail))


def read_run(what: str, body: str, defaults: dict[str, Any]) -> tuple[Any, str]:
    """The record(s) and the expected outcome of `RECORDS => EXPECTED`; `ValueError` if
    either cannot be read."""
    records, end = json.JSONDecoder(parse_float=Decimal).raw_decode(body)
    arrow, _, expected = body[end:].strip().partition(" ")
    if arrow != "=>" or not expected:
        raise ValueError("the record must be followed by `=> EXPECTED`")
    if what != "eval" or not OUTCOME.fullmatch(expected):
        try:
            value = decode(expected)
        except ValueError as error:
            raise ValueError(f"cannot read `{expected}` as JSON ({error})") from None
        if what == "eval" and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
            raise ValueError("`eval` expects an amount, `not counted R` or `error CODE`")
    return with_defaults(records, defaults), expected


def read_file(program: Program, file: Path) -> None:
    lines = file.read_text(encoding="utf-8").splitlines()
    defaults: dict[str, Any] = {}
    xfail: str | None = None
    i = 0
    while i < len(lines):
        number = i + 1
        code, comment = split_comment(lines[i])
        i += 1
        if comment is None:
            continue
        if comment.startswith("###"):
            if not code.strip():
                program.problems.append(f"{place(file, number)}: `###` beside no code")
            read_errors(program, file, number, comment, xfail)
            continue
        found = DIRECTIVE.match(comment)
        if found is None:
            continue
        what, body = found[1], found[2].strip()
        while body.endswith("\\") and i < len(lines):  # continued on the next line
            more = split_comment(lines[i])[1] or "#"
            body = body[:-1].rstrip() + " " + more[1:].strip()
            i += 1
        try:
            if what == "xfail":
                xfail = body
            elif what == "defaults":
                defaults = decode(body)
            else:
                records, expected = read_run(what, body, defaults)
                program.runs.append(Run(what, file, number, records, expected, xfail))
        except ValueError as error:
            program.problems.append(f"{place(file, number)}: {what}: {error}")


def read_program(path: Path) -> Program:
    program = Program(path)
    for file in program.files:
        read_file(program, file)
    where = path.relative_to(ROOT)
    if not program.runs and not program.errors:
        program.problems.append(f"{where}: the program expects nothing")
    if program.runs and program.errors:
        program.problems.append(f"{where}: a program is refused (`###`) or runs records, not both")
    return program


def discover() -> list[Program]:
    """Every `.rules` file here, and every folder here that holds `.rules` files."""
    paths = [p for p in HERE.iterdir() if p.is_file() and p.suffix == ".rules"]
    paths += [p for p in HERE.iterdir() if p.is_dir() and any(p.rglob("*.rules"))]
    return [read_program(p) for p in sorted(paths)]


PROGRAMS = discover()


@functools.cache
def loaded(path: Path) -> engine.Policy | engine.PolicyError:
    try:
        return engine.load(path)
    except engine.PolicyError as error:
        return error


# ── comparing ────────────────────────────────────────────────────────────


def same(expected: Any, actual: Any) -> bool:
    """`expected` (read from JSON) equals `actual`; an object need only be part of it."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and same(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list | tuple)
            and len(expected) == len(actual)
            and all(same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):  # `true` is not 1
        return type(expected) is type(actual) and expected == actual
    return expected == actual


def found_in(expected: Any, items: list[Any]) -> bool:
    """An object: some item is like it; a list: the items, one by one, in order."""
    if isinstance(expected, list):
        return same(expected, items)
    return any(same(expected, item) for item in items)


def show(value: Any) -> str:
    """JSON, exact decimals written as numbers."""
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}: {show(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(show, value)) + "]"
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(str(value), ensure_ascii=False)


def fail(run: Run, actual: str) -> None:
    pytest.fail(
        f"{place(run.file, run.line)}: {run.what} {show(run.records)}\n"
        f"  expected: {run.expected}\n  actual:   {actual}",
        pytrace=False,
    )


def outcome(policy: engine.Policy, record: Any) -> tuple[str, dict[str, Any] | None]:
    """The result, and what `eval` compares: `6.5`, `not counted R` or `error CODE: …`."""
    try:
        result = policy.evaluate(record)
    except engine.RecordError as error:
        return f"error {error.code}: {error.message}", None
    if "fact" in result:
        return "fact", result
    if result["counted"]:
        return show(result["amount"]), result
    return f"not counted {result['reason']}", result


def check_eval(run: Run, policy: engine.Policy) -> None:
    actual, result = outcome(policy, run.records)
    want = run.expected
    if want.startswith("error "):
        code, _, text = want.removeprefix("error ").partition(":")
        good = actual.startswith(f"error {code}:") and text.strip() in actual
    elif want.startswith("not counted "):
        good = actual == want
    else:
        good = result is not None and result["counted"] and same(decode(want), result["amount"])
    if not good:
        fail(run, actual)


def check_result(run: Run, policy: engine.Policy) -> None:
    actual, result = outcome(policy, run.records)
    if result is None or not same(decode(run.expected), result):
        fail(run, actual if result is None else show(result))


def check_trace(run: Run, policy: engine.Policy) -> None:
    actual, result = outcome(policy, run.records)
    if result is None or not found_in(decode(run.expected), result["trace"]):
        fail(run, actual if result is None else "\n    ".join(map(show, result["trace"])))


def check_report(run: Run, policy: engine.Policy) -> None:
    records = run.records if isinstance(run.records, list) else [run.records]
    rows = policy.report(records)
    for row in rows:
        row.pop("version", None)  # a digest of the files, only noise in a message
    if not found_in(decode(run.expected), rows):
        fail(run, "\n    ".join(map(show, rows)))


CHECKS = {"eval": check_eval, "result": check_result, "trace": check_trace, "report": check_report}


def check_errors(program: Program) -> None:
    refused = loaded(program.path)
    if not isinstance(refused, engine.PolicyError):
        wanted = "\n  ".join(map(str, program.errors))
        pytest.fail(f"the policy loads, but it must be refused with\n  {wanted}", pytrace=False)
    unmatched = list(refused.diagnostics)
    missing = []
    # the most particular first, so that a bare expectation does not take their match
    for expected in sorted(program.errors, key=lambda e: (e.column is None, e.text is None)):
        match = next((d for d in unmatched if expected.matches(d)), None)
        if match is None:
            missing.append(str(expected))
        else:
            unmatched.remove(match)
    if missing or unmatched:
        lines = ["the diagnostics differ from the program's `###` expectations"]
        lines += [f"  expected, not reported: {m}" for m in missing]
        lines += [f"  reported, not expected: {describe(d)}" for d in unmatched]
        pytest.fail("\n".join(lines), pytrace=False)


def describe(d: engine.Diagnostic) -> str:
    if d.span is None:
        return f"error[{d.code}]: {d.message}"
    where = place(Path(d.span.file).resolve(), d.span.line)
    return f"{where}:{d.span.column}: error[{d.code}]: {d.message}"


# ── the tests ────────────────────────────────────────────────────────────


def cases() -> list[Any]:
    out = []
    for program in PROGRAMS:
        name = program.path.name
        if program.problems:
            out.append(pytest.param(program, None, id=f"{name}:unreadable"))
            continue
        if program.errors:
            reasons = sorted({e.xfail for e in program.errors if e.xfail})
            marks = [pytest.mark.xfail(strict=True, reason=r) for r in reasons]
            out.append(pytest.param(program, None, id=f"{name}:errors", marks=marks))
        for run in program.runs:
            marks = [pytest.mark.xfail(strict=True, reason=run.xfail)] if run.xfail else []
            where = run.file.relative_to(HERE)
            out.append(pytest.param(program, run, id=f"{where}:{run.line}", marks=marks))
    return out


@pytest.mark.parametrize(("program", "run"), cases())
def test_program(program: Program, run: Run | None) -> None:
    if program.problems:
        pytest.fail("\n".join(program.problems), pytrace=False)
    if run is None:
        check_errors(program)
        return
    policy = loaded(program.path)
    if isinstance(policy, engine.PolicyError):
        fail(run, f"the policy is refused:\n{policy}")
    assert isinstance(policy, engine.Policy)
    CHECKS[run.what](run, policy)


# ── the programs cover the language ──────────────────────────────────────

GRAMMAR = (ROOT / "grammar" / "rules.lark").read_text(encoding="utf-8")
LANGUAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def programs_text(rows: bool) -> str:
    """The code of every program, comments left out: its table rows, or all else."""
    lines = [split_comment(line)[0] for p in PROGRAMS for f in p.files
             for line in f.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    return "\n".join(line for line in lines if line.lstrip().startswith("|") == rows)


def test_every_keyword_of_the_grammar_is_used() -> None:
    keywords = set(re.findall(r'"([a-z]+)"', GRAMMAR))
    assert len(keywords) > 40
    words = set(re.findall(r"\w+", programs_text(rows=False)))
    assert sorted(keywords - words) == []


def test_every_operator_of_the_grammar_is_used() -> None:
    """Each form of `CMP`, `PLUS`, `MINUS` and `MUL_OP` in an expression (`-` also as a
    negation), and of `HOLE` in a table row."""
    code, rows = programs_text(rows=False), programs_text(rows=True)
    missing = []
    for terminal in ("CMP", "PLUS", "MINUS", "MUL_OP", "HOLE"):
        definition = re.search(rf"^{terminal}: (.*)$", GRAMMAR, re.MULTILINE)
        assert definition is not None, terminal
        for op in re.findall(r'"([^"]+)"', definition[1]):
            if terminal == "HOLE":
                used = f"| {op} " in rows
            else:
                used = f" {op} " in code or (terminal == "MINUS" and f" {op}a" in code)
            if not used:
                missing.append(f"{terminal} {op}")
    assert missing == []


def test_every_builtin_in_the_docs_is_used() -> None:
    """The functions in language.md's table of expressions (`min(a, b, …)`, …)."""
    section = LANGUAGE.split("## Expressions")[1].split("\n## ")[0]
    forms = [row.split("|")[1] for row in section.splitlines() if row.startswith("| `")]
    builtins = {name for form in forms for name in re.findall(r"`([a-z]{2,})\(", form)}
    assert builtins >= {"min", "max", "floor", "ceil", "round", "lower", "higher", "sum"}
    code = programs_text(rows=False)
    assert sorted(b for b in builtins if not re.search(rf"\b{b}\(", code)) == []


def test_every_change_to_a_base_is_used() -> None:
    """`override` of each of the grammar's `_replaceable` declarations, `override rule K
    in R`, a table's whole, grid, cell, bracket-row and split-row overrides (and a change
    with its own `cite`), each `extend`, and a `gap` after a base."""
    replaceable = re.search(r"^_replaceable: (.*?)\n(?=\S)", GRAMMAR, re.MULTILINE | re.DOTALL)
    assert replaceable is not None
    forms = {f"override {w}": rf"override {w}\b" for w in re.findall(r"\w+", replaceable[1])}
    assert "-> table_override" in GRAMMAR and "-> cell_override" in GRAMMAR
    forms["override rule K in R"] = r"override rule \w+ in \w+"
    forms["override table T(KEYS) -> V { … }"] = r"override table \w+\("
    forms["override table T { grid }"] = r"override table \w+ \{"
    forms["override table T[row, column] = v"] = r"override table \w+\[[^\]<>=]+,"
    forms["override table T[>= n] = v"] = r"override table \w+\[\s*[<>]"
    forms["override table T[range] = { rows }"] = r"override table \w+\[.*\] = \{"
    forms["override table T[…] = v cite …"] = r"override table \w+\[.*\] = [^{]* cite "
    forms["override table T cite … { grid }"] = r"override table \w+ cite "
    forms["extend table T cite … { grid }"] = r"extend table \w+ cite "
    forms["policy … gap Y"] = r"policy .* extends .* gap \d"
    for word in re.findall(r'"extend" "(\w+)"', GRAMMAR):
        forms[f"extend {word}"] = rf"extend {word}\b"
    assert len(forms) >= 24
    code = programs_text(rows=False)
    unused = [f for f, rx in forms.items() if not re.search(rf"^\s*{rx}", code, re.MULTILINE)]
    assert unused == []


def test_the_programs_are_many_and_expect_much() -> None:
    assert len(PROGRAMS) >= 35
    assert sum(len(p.runs) for p in PROGRAMS) >= 300
    assert sum(len(p.errors) for p in PROGRAMS) >= 50

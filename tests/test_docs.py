"""The examples in the docs run, so that the docs cannot drift from the engine."""

import re
import shlex
from pathlib import Path

import pytest

from engine.pipeline.policy import load
from engine.syntax.parse import parse
from engine.tools.cases import read_cases, run_case
from engine.tools.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))


def blocks(language: str) -> list[tuple[str, int, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(rf"```{language}\n(.*?)```", text, re.DOTALL):
            found.append((doc.name, text[: match.start()].count("\n") + 1, match.group(1)))
    return found


RULES, YAML, SHELL = blocks("rules"), blocks("yaml"), blocks("sh")


@pytest.mark.parametrize(("doc", "line", "code"), RULES, ids=[f"{d}:{n}" for d, n, _ in RULES])
def test_language_examples_parse(doc: str, line: int, code: str) -> None:
    parse(code, f"{doc}:{line}")


@pytest.mark.parametrize(("doc", "line", "code"), YAML, ids=[f"{d}:{n}" for d, n, _ in YAML])
def test_case_examples_run_and_pass(tmp_path: Path, doc: str, line: int, code: str) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(code, encoding="utf-8")
    for case in read_cases(path):
        outcome = run_case(case, load(None, case.params or None))
        assert outcome.passed, outcome.describe()


COMMANDS = [(d, n, c) for d, n, code in SHELL for c in code.splitlines() if c.startswith("rules ")]


@pytest.mark.parametrize(("doc", "line", "command"), COMMANDS,
                         ids=[f"{d}:{n}:{c.split()[1]}" for d, n, c in COMMANDS])  # fmt: skip
def test_shell_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, doc: str, line: int, command: str
) -> None:
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)[1:]
    if "-o" in argv:  # write into a scratch folder, not over the committed file
        written = Path(argv[argv.index("-o") + 1])
        argv[argv.index("-o") + 1] = str(tmp_path / ("out" + written.suffix))
    status = main(argv)
    bad_rows = "report" in argv and "unit-2021" in command  # the example sheet has bad rows
    assert status == (1 if bad_rows else 0)
    if argv[0] in ("check", "test", "explain", "report"):
        assert capsys.readouterr().out


def test_docs_have_examples() -> None:
    assert len(RULES) >= 15 and len(YAML) >= 3 and len(COMMANDS) >= 5

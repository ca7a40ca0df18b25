"""Project-level promises: documented codes, the README's main job, the benchmark's baseline,
the notice and its readings kept in the repository."""

import importlib.util
import re
import subprocess
from pathlib import Path

import engine
from engine.io.cells import CellReader
from engine.io.inputs import read_records

ROOT = Path(__file__).resolve().parent.parent


def test_every_diagnostic_code_is_documented() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "engine").rglob("*.py"))
    codes = set(re.findall(r'(?:error|Diagnostic)\(\s*"([a-z-]+)"', source))
    documented = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert len(codes) >= 30
    missing = sorted(c for c in codes if f"`{c}`" not in documented)
    assert missing == []


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert readme[3] == (
        "python3 -m pip install . && rules report examples/unit-2021.xlsx --format table"
    )
    assert readme[4] == "python3 -m pip install '.[test]' && python3 -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme[4] in ci


def test_example_sheet_and_lines_report_the_same() -> None:
    policy = engine.load()
    sheet = read_records(ROOT / "examples" / "unit-2021.xlsx", CellReader([policy.model]))
    lines = read_records(ROOT / "examples" / "unit-2021.jsonl")
    # the sheet's rows are numbered by position, the lines carry that number as their id
    from_sheet = [
        {**r, "id": str(r["id"])} if "id" in r else r for r in policy.report_numbered(sheet)
    ]
    assert from_sheet == list(policy.report_numbered(lines))


def test_benchmark_baseline_agrees_with_the_engine() -> None:
    spec = importlib.util.spec_from_file_location("bench_evaluate", ROOT / "bench" / "evaluate.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    records = bench.generate(5000, seed=11)
    bench.agree(list(engine.load().evaluate_many(records)), bench.baseline_many(records))


BINZHOU = ROOT / "policies" / "binzhou"
READINGS = BINZHOU / "readings.zh.md"
LINK = re.compile(r"\[([^\]]+)\]\(([^)#\s]+)(?:#L(\d+))?\)")


def repository_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    paths = [ROOT / name for name in listed.split("\0") if name]
    return [p for p in paths if p.is_file() and b"\0" not in p.read_bytes()[:8192]]


def test_nothing_points_outside_the_repository() -> None:
    """The notice and its readings are in the repository; no file cites a copy users lack."""
    banned = re.compile(r"shared[/]|interpretation[s][.]md|contract[.]md")  # not matching itself
    files = repository_text_files()
    assert len(files) > 100
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if banned.search(line)
    ]
    assert hits == []


def test_the_notice_is_the_binzhou_policys_source() -> None:
    notice = (BINZHOU / "notice.zh.txt").read_text(encoding="utf-8")
    assert "滨人社信函〔2021〕7号" in notice and "学时（学分）折算说明" in notice


def test_every_reading_in_the_policy_is_explained_and_linked_to_its_line() -> None:
    readings = READINGS.read_text(encoding="utf-8")
    links = {(target, int(line)) for _, target, line in LINK.findall(readings) if line}
    marked = {
        (key, path.name, n)
        for path in sorted(BINZHOU.glob("*.rules"))
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for key in re.findall(r"Reading ([A-Z]\d+)", text)
    }
    assert {key for key, _, _ in marked} >= {"A1", "A2", "P1", "P2", "D1", "C1", "C2", "S1"}
    for key, _, _ in marked:
        assert f"**Reading {key}**" in readings, key
    assert {(name, n) for _, name, n in marked} <= links


def test_the_readings_links_and_citation_keys_hold() -> None:
    """Each link names an existing file (and line: text `file:N`, that line exists), and
    every key a policy cites is in the readings' table of keys."""
    readings = READINGS.read_text(encoding="utf-8")
    for text, target, line in LINK.findall(readings):
        lines = (BINZHOU / target).read_text(encoding="utf-8").splitlines()
        if line:
            assert text == f"{target}:{line}" and 1 <= int(line) <= len(lines), text
    keyed = set(re.findall(r"^\| ([正附][^ |]*) \|", readings, re.MULTILINE))
    cited = {
        key
        for path in BINZHOU.glob("*.rules")
        for key in re.findall(r'"([正附][^"]*)"', path.read_text(encoding="utf-8"))
    }
    assert len(cited) >= 20 and cited <= keyed

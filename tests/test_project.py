"""Project-level promises: documented codes, the README's main job, the benchmark's baseline."""

import importlib.util
import re
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

"""Project-level promises: documented codes, the README's main job, the benchmark's baseline."""

import importlib.util
import re
from pathlib import Path

import engine
from engine.inputs import read_records

ROOT = Path(__file__).resolve().parent.parent


def test_every_diagnostic_code_is_documented() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "engine").glob("*.py"))
    codes = set(re.findall(r'(?:error|Diagnostic)\(\s*"([a-z-]+)"', source))
    documented = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert len(codes) >= 30
    missing = sorted(c for c in codes if f"`{c}`" not in documented)
    assert missing == []


def test_readme_main_job_evaluates_every_example() -> None:
    policy = engine.load()
    results = list(policy.evaluate_numbered(read_records(ROOT / "examples" / "records.jsonl")))
    assert len(results) == 40
    assert all("error" not in r for r in results)


def test_benchmark_baseline_agrees_with_the_engine() -> None:
    spec = importlib.util.spec_from_file_location("bench_evaluate", ROOT / "bench" / "evaluate.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    records = bench.generate(5000, seed=11)
    bench.agree(list(engine.load().evaluate_many(records)), bench.baseline_many(records))

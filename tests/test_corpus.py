"""The corpus: bad policies and bad records found by the fuzzers and by hand.

`tests/corpus/policies/NAME.rules` must be refused with exactly the diagnostics in
`NAME.out`; `tests/corpus/records/NAME.jsonl` must give, line for line, the results in
`NAME.out` (amount, or error code, field and message). Regenerate the `.out` files with
`REGEN=1 python3 -m pytest tests/test_corpus.py` and review them in `git diff`; add a new
case whenever a fuzzer finds one.
"""

import io
import json
import os
from pathlib import Path

import pytest

import engine
from engine.inputs import json_lines

CORPUS = Path(__file__).parent / "corpus"
POLICIES = sorted((CORPUS / "policies").glob("*.rules"))
RECORDS = sorted((CORPUS / "records").glob("*.jsonl"))
POLICY = engine.load()


def _compare(expected_file: Path, actual: str) -> None:
    if os.environ.get("REGEN"):
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("program", POLICIES, ids=[p.stem for p in POLICIES])
def test_a_bad_policy_is_refused_with_its_diagnostics(program: Path, monkeypatch) -> None:
    monkeypatch.chdir(CORPUS)
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(Path("policies") / program.name)
    _compare(program.with_suffix(".out"), str(caught.value) + "\n")


@pytest.mark.parametrize("batch", RECORDS, ids=[p.stem for p in RECORDS])
def test_bad_records_get_their_errors_in_place(batch: Path) -> None:
    data = batch.read_bytes()
    results = list(POLICY.evaluate_numbered(json_lines(io.BytesIO(data))))
    assert len(results) == sum(1 for line in data.split(b"\n") if line.strip())
    lines = []
    for result in results:
        shown = {"id": result["id"]}
        if "error" in result:
            shown["error"] = result["error"]
        else:
            shown.update(amount=result["amount"], counted=result["counted"])
        lines.append(json.dumps(shown, ensure_ascii=False, default=str))
    _compare(batch.with_suffix(".out"), "\n".join(lines) + "\n")


def test_the_corpus_is_not_empty() -> None:
    assert len(POLICIES) >= 10 and RECORDS

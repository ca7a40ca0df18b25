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
from engine.io.inputs import json_lines

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
    assert len(results) == sum(1 for line in data.split(b"\n") if line.strip(b" \t\r\n"))
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


# ── limits that need a file built on the spot ────────────────────────────
def test_a_link_leading_out_of_the_policy_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "base.rules").write_text(
        (CORPUS.parent / "check" / "base" / "base.rules").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    outside = tmp_path / "secret.rules"
    outside.write_text("policy secret\n", encoding="utf-8")
    (folder / "more.rules").symlink_to(outside)
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(folder)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "outside-folder"
    assert (
        diagnostic.message
        == f"`{folder / 'more.rules'}` leads out of the policy folder (to `{outside}`)"
    )


def test_a_line_over_the_limit_is_an_error_in_its_place() -> None:
    from engine.syntax.limits import MAX_LINE

    long = b'{"kind": "lecture", "year": 2019, "credits": 1, "note": "' + b"x" * MAX_LINE + b'"}'
    ok = b'{"kind": "lecture", "year": 2019, "credits": 1}'
    results = list(POLICY.evaluate_numbered(json_lines(io.BytesIO(ok + b"\n" + long + b"\n" + ok))))
    assert [r.get("amount", r.get("error", {}).get("message")) for r in results] == [
        1,
        "line 2 is longer than 1,048,576 bytes, the most one record may take",
        1,
    ]


def test_a_csv_cell_over_the_limit_stops_the_file_at_its_row(tmp_path: Path) -> None:
    from engine.io.cells import CellReader
    from engine.io.inputs import InputError, read_records

    sheet = tmp_path / "unit.csv"
    sheet.write_text("kind,year,credits\nlecture,2019,1\nlecture,2019," + "9" * 40_000 + "\n")
    rows = read_records(sheet, CellReader([POLICY.model]))
    assert next(rows)[0] == 2
    with pytest.raises(InputError) as caught:
        next(rows)
    assert str(caught.value) == f"`{sheet}` row 3: a cell has more than 32,767 characters"


def test_yaml_aliases_are_not_expanded(tmp_path: Path) -> None:
    from engine.io.inputs import read_records

    laughs = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for n, name in enumerate("bcdefghij"):
        laughs.append(f"{name}: &{name} [{', '.join(['*' + 'abcdefghij'[n]] * 9)}]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(laughs) + "\n")
    [(_, record)] = list(read_records(path))
    assert record["j"][0] is record["j"][1]  # shared, as written: 9**10 leaves never made

"""Mistakes an officer makes at the command line, each as a user trying the tool met it:
a clear message and the documented exit status (2: usage, unreadable input, a policy
that does not load), never a traceback."""

import shutil
from pathlib import Path

import pytest

from engine.tools.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASE = """cases:
  - name: one
    records: [{id: a, year: 2021, kind: degree, passed: true}]
    expect: {a: {amount: 20}}
  - name: two
    records: [{id: a, year: 2021, kind: degree, passed: true}]
    expect: {a: {amount: 20}}
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["doc", "-o", "{tmp}/no/such/folder/doc.md"],
        ["doc", "--html", "-o", "{tmp}/no/such/folder/doc.html"],
        ["report", str(ROOT / "examples" / "unit-2021.jsonl"), "-o", "{tmp}/no/folder/r.xlsx"],
    ],
)
def test_writing_into_a_folder_that_is_not_there(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"rules {argv[0]}: cannot write `{tmp_path}/no/" in err
    assert err.rstrip().endswith(("No such file or directory", "/folder`"))


def test_an_output_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(ROOT / "examples" / "explain.jsonl"), "-o", str(tmp_path)]) == 2
    assert f"`{tmp_path}` is a folder; name a file ending in .jsonl" in capsys.readouterr().err


def test_cases_of_a_policy_that_does_not_load_exit_2_and_say_why_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(ROOT / "policies" / "binzhou", policy)
    (policy / "extra.rules").write_bytes(b"policy x\n\xb6\n")
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASE, encoding="utf-8")
    assert main(["test", str(cases), "--policy", str(policy)]) == 2
    out = capsys.readouterr().out
    assert out.count("not UTF-8: byte 0xb6 at offset 9") == 1
    assert "the policy does not load (its diagnostics are above)" in out
    assert out.splitlines()[-1] == "0 passed, 2 failed"


def test_test_takes_the_policy_for_cases_that_name_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASE.replace("year: 2021", "year: 2022"), encoding="utf-8")  # the draft's
    draft = ROOT / "policies" / "examples" / "binzhou-2022-draft"
    assert main(["test", str(cases), "--policy", str(draft)]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith("2 passed, 0 failed — binzhou_2022_draft ")
    )


def test_a_missing_case_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "no-such-cases.yaml"]) == 2
    assert "FAIL no-such-cases.yaml" in capsys.readouterr().out


def test_min_without_coverage_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--min", "80"]) == 2
    assert "`--min` goes with `--coverage`" in capsys.readouterr().err
    assert main(["test", "--changes"]) == 2
    assert "`--changes` goes with `--coverage`" in capsys.readouterr().err


def test_coverage_of_an_amendments_changes(capsys: pytest.CaptureFixture[str]) -> None:
    cases = ROOT / "policies" / "examples" / "binzhou-2023-amendment" / "cases"
    assert main(["test", str(cases), "--coverage", "--changes", "--min", "100"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == (
        "coverage: 100.0% (5 of 5 rule branches, table cells and summaries written by the "
        "changes of a policy that extends another)"
    )
    assert out[-1].startswith("8 passed, 0 failed — ")


def test_a_failing_expectation_shows_the_records_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASE.replace("passed: true}]\n    expect: {a: {amount: 20}}\n  - name: two",
                                  "pased: true}]\n    expect: {a: {amount: 20}}\n  - name: two"),
                     encoding="utf-8")  # fmt: skip
    assert main(["test", str(cases)]) == 1
    out = capsys.readouterr().out
    assert (
        "    a: expected {amount: 20}, got the error invalid_record: `pased` is not a field" in out
    )


def test_one_file_of_a_policy_checked_alone_is_pointed_to_its_folder(capsys) -> None:
    folder = Path(__file__).resolve().parent.parent / "policies" / "binzhou"
    assert main(["check", str(folder / "papers.rules")]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("note: `papers.rules` is one of 9 files of the policy in ")
    assert last.endswith("binzhou")

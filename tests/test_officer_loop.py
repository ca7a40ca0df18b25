"""The officer's loop: with no policy named, commands use the files being edited, and say so."""

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

import engine
from engine.syntax.resources import bundled_cases_path
from engine.tools.cases import read_cases
from engine.tools.cli import main
from engine.tools.workspace import find

ROOT = Path(__file__).resolve().parent.parent
RULES = Path(sysconfig.get_path("scripts")) / "rules"
PAPER = (
    '{"id": "r1", "person": "p1", "year": 2021, "kind": "paper", "venue": "cn_serial", '
    '"words": 3000, "authors": 4, "position": 4}\n'
)
NATIONAL = "    | 国家级 | 40     | 35     | 30     | 20       |\n"  # achievements, tables.rules


def rules(
    cwd: Path, *args: str, stdin: str = "", script: bool = False
) -> subprocess.CompletedProcess:
    command = [str(RULES)] if script else [sys.executable, "-m", "engine"]
    return subprocess.run(
        [*command, *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )


def count(folder: Path) -> int:
    return sum(len(read_cases(f)) for f in sorted(folder.rglob("*.yaml")))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A folder laid out like the repository: `policies/` and `tests/golden/`."""
    shutil.copytree(ROOT / "policies", tmp_path / "repo" / "policies")
    shutil.copytree(ROOT / "tests" / "golden", tmp_path / "repo" / "tests" / "golden")
    return tmp_path / "repo"


@pytest.fixture
def officer(tmp_path: Path) -> Path:
    """An officer's own folder: the 2022 draft with its `cases/`, its base two levels up."""
    shutil.copytree(ROOT / "policies", tmp_path / "mine", ignore=shutil.ignore_patterns("DEFAULT"))
    return tmp_path / "mine" / "examples" / "binzhou-2022-draft"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_test_runs_the_edited_policy_not_the_installed_copy(repo: Path) -> None:
    tables = repo / "policies" / "binzhou" / "tables.rules"
    edit(tables, NATIONAL, NATIONAL.replace("40 ", "41 "))
    version = engine.load(repo / "policies" / "binzhou").version
    assert version != engine.load().version
    done = rules(repo, "test")
    assert done.returncode == 1, done.stderr
    *_, last = done.stdout.splitlines()
    passed, _, rest = last.partition(" passed, ")
    failed, _, named = rest.partition(" failed")
    assert int(failed) > 0 and int(passed) + int(failed) == count(repo / "tests" / "golden")
    assert named == f" — binzhou {version} (policies/binzhou)"
    assert "FAIL tests/golden/02-shared-tables.yaml:" in done.stdout
    assert "amount: expected 40, got 41" in done.stdout


def test_a_new_golden_file_is_run_from_below_the_repository(repo: Path) -> None:
    golden = repo / "tests" / "golden"
    (golden / "99-new.yaml").write_text(
        "cases:\n  - name: 新用例\n"
        "    records: [{id: a, year: 2021, kind: award, level: national, tier: first, rank: 1}]\n"
        "    expect: {a: {amount: 41}}\n",
        encoding="utf-8",
    )
    done = rules(golden, "test")
    version = engine.load(repo / "policies" / "binzhou").version
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "FAIL 99-new.yaml:2: 新用例",
        "    a.amount: expected 41, got 40",
        f"{count(golden) - 1} passed, 1 failed — binzhou {version} "
        f"({repo / 'policies' / 'binzhou'})",
    ]


def test_an_officer_folder_is_found_from_inside_it(officer: Path) -> None:
    edit(officer / "tables.rules", "| 国家级 | 45     |", "| 国家级 | 46     |")
    version = engine.load(officer).version
    done = rules(officer, "test")
    assert done.returncode == 1
    assert "nat-first.amount: expected 45, got 46" in done.stdout
    both = officer.parent / "binzhou-2021-2022.yaml"  # the set one case file names
    assert done.stdout.splitlines()[-1] == (
        f"{count(officer / 'cases') - 3} passed, 3 failed — "
        f"binzhou-2021-2022 {engine.load(both).version} ({both}), "
        f"binzhou_2022_draft {version} (.)"
    )
    checked = rules(officer / "cases", "check")
    assert checked.returncode == 0
    assert checked.stdout.startswith(f"binzhou_2022_draft {version} ({officer}): ok — ")


def test_outside_any_policy_folder_the_bundled_copy_is_used_and_named(tmp_path: Path) -> None:
    assert find(tmp_path).bundled
    # the copy the command finds: from a source checkout, or from an installed wheel
    where = subprocess.run(
        [sys.executable, "-c", "from engine.syntax.resources import bundled_policy_path as b; "
         "print(b())"], cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    done = rules(tmp_path, "test")
    version = engine.load().version
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1] == (
        f"{count(bundled_cases_path())} passed, 0 failed — binzhou {version} (bundled: {where})"
    )
    checked = rules(tmp_path, "check")
    assert checked.stdout.startswith(f"binzhou {version} (bundled: {where}): ok")


def test_a_policy_named_wins_over_the_one_here(repo: Path) -> None:
    done = rules(repo, "check", str(ROOT / "policies" / "examples" / "binzhou-2022-draft"))
    draft = engine.load(ROOT / "policies" / "examples" / "binzhou-2022-draft")
    folder = ROOT / "policies" / "examples" / "binzhou-2022-draft"
    assert done.stdout.startswith(f"binzhou_2022_draft {draft.version} ({folder}): ok — ")


def test_records_go_to_stdout_and_the_policy_is_named_on_stderr(repo: Path) -> None:
    version = engine.load(repo / "policies" / "binzhou").version
    for command in ("eval", "report", "explain"):
        done = rules(repo, command, stdin=PAPER)
        assert done.returncode == 0
        assert done.stderr == f"rules {command}: binzhou {version} (policies/binzhou)\n"
    out = json.loads(rules(repo, "eval", stdin=PAPER).stdout)
    assert out == engine.load(repo / "policies" / "binzhou").evaluate(json.loads(PAPER))


def test_fmt_without_a_path_formats_the_policy_here(officer: Path) -> None:
    edit(officer / "tables.rules", "| 国家级 | 45     |", "| 国家级 |  45 |")
    done = rules(officer, "fmt", "--check")
    assert (done.returncode, done.stdout) == (1, "would reformat tables.rules\n")


@pytest.mark.parametrize(
    "args",
    [["check"], ["test"], ["eval"], ["explain"], ["fmt", "--check"], ["--version"], ["fmt", "x"]],
)
def test_rules_and_python_m_engine_answer_alike(officer: Path, args: list[str]) -> None:
    edit(officer / "tables.rules", "| 国家级 | 45     |", "| 国家级 | 46     |")
    script = rules(officer, *args, stdin=PAPER, script=True)
    module = rules(officer, *args, stdin=PAPER)
    assert "Traceback" not in script.stderr
    assert (script.returncode, script.stdout, script.stderr) == (
        module.returncode,
        module.stdout,
        module.stderr,
    )


def test_fmt_of_a_missing_file_is_a_diagnostic(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nosuch.rules"
    assert main(["fmt", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}: error[unreadable]: no such file or folder\n"


def test_fmt_of_a_file_not_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "latin.rules").write_bytes(b'policy x "caf\xe9"\n')
    done = rules(tmp_path, "fmt", "latin.rules")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "latin.rules: error[unreadable]: not UTF-8: byte 0xe9 at offset 13\n"
        "  = help: save it as UTF-8\n"
    )


def test_check_of_a_missing_path_is_an_input_error(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nosuch"
    assert main(["check", str(missing)]) == 2
    assert capsys.readouterr().out == f"error[no-policy]: no policy at `{missing}`\n1 error(s)\n"


def test_test_without_cases_here_is_a_usage_error(officer: Path) -> None:
    shutil.rmtree(officer / "cases")
    done = rules(officer, "test")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "rules test: no golden cases for `.`: no `cases/` or `tests/golden/` folder; "
        "name case files or folders\n"
    )


def test_version(capsys) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert engine.__version__ == pyproject["project"]["version"]
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"rules {engine.__version__}\n"

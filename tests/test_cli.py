"""The `rules` command line: outputs, exit codes and streaming."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.tools.cli import main

HERE = Path(__file__).parent
PAPER = (
    '{"id": "r1", "person": "p1", "year": 2021, "kind": "paper", "venue": "cn_serial", '
    '"words": 3000, "authors": 4, "position": 4}'
)


def rules(*args: str, stdin: str | bytes = b"") -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], input=data, capture_output=True, check=False
    )


def test_eval_stdin_keeps_order_and_marks_bad_lines() -> None:
    lines = [PAPER, "not json", "[1, 2]", PAPER.replace('"r1"', '"r2"').replace("4}", "1}")]
    done = rules("eval", stdin="\n".join(lines) + "\n\n")
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["id"] for r in out] == ["r1", 2, 3, "r2"]
    assert out[0]["amount"] == 3 and out[3]["amount"] == 4
    assert out[1]["error"]["message"].startswith("line 2 is not valid JSON")
    assert out[2]["error"]["code"] == "invalid_record"


def test_eval_invalid_utf8_line_is_an_error_in_place() -> None:
    done = rules("eval", stdin=PAPER.encode() + b"\n\xff\xfe\n" + PAPER.encode() + b"\n")
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(out) == 3 and out[1]["error"]["message"].startswith("line 2 is not UTF-8")


def test_eval_all_valid_exits_zero_with_exact_decimals() -> None:
    done = rules("eval", stdin='{"year": 2019, "kind": "professional_course", "hours": 12}\n')
    assert done.returncode == 0, done.stderr
    assert '"amount": 2.4' in done.stdout.decode()


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl"])
def test_eval_reads_files_by_extension(tmp_path: Path, suffix: str, capsys) -> None:
    record = json.loads(PAPER)
    path = tmp_path / f"in{suffix}"
    text = {
        ".json": json.dumps([record, record], ensure_ascii=False),
        ".yaml": "- " + json.dumps(record, ensure_ascii=False) + "\n- " + json.dumps(record),
        ".jsonl": PAPER + "\n" + PAPER + "\n",
    }[suffix]
    path.write_text(text, encoding="utf-8")
    assert main(["eval", str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["amount"] for r in out] == [3, 3]


def test_eval_unknown_extension_is_a_usage_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "in.txt"
    path.write_text("x", encoding="utf-8")
    assert main(["eval", str(path)]) == 2
    assert "unknown file type `.txt`" in capsys.readouterr().err


def test_check_bundled_policy_is_ok() -> None:
    done = rules("check")
    assert done.returncode == 0
    assert done.stdout.decode().startswith("binzhou ")


def test_check_bad_policy_prints_diagnostics_and_exits_one() -> None:
    done = rules("check", str(HERE / "check" / "unknown-name.rules"))
    assert done.returncode == 1
    out = done.stdout.decode()
    assert "unknown-name.rules:6:51: error[unknown-name]: unknown name `word`" in out
    assert "did you mean `words`?" in out and out.rstrip().endswith("1 error(s)")


def test_check_json_format(capsys) -> None:
    assert main(["check", str(HERE / "check" / "unknown-name.rules"), "--format", "json"]) == 1
    (diag,) = json.loads(capsys.readouterr().out)
    assert (diag["code"], diag["line"], diag["column"]) == ("unknown-name", 6, 51)


def test_unloadable_policy_exits_two() -> None:
    done = rules("eval", "--policy", str(HERE / "check" / "recursion.rules"), stdin=PAPER)
    assert done.returncode == 2
    assert "error[recursion]" in done.stderr.decode()


def test_schema_of_one_kind(capsys) -> None:
    assert main(["schema", "专著"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["level"]["enum"] == [
        "city",
        "provincial",
        "national",
        "地市级",
        "省部级",
        "国家级",
    ]


def test_schema_unknown_kind_is_a_usage_error(capsys) -> None:
    assert main(["schema", "essay"]) == 2


def test_eval_streams_in_constant_memory(tmp_path: Path) -> None:
    """Peak memory of the child barely grows from 20,000 to 200,000 records."""
    script = (
        "import resource, subprocess, sys\n"
        "n = int(sys.argv[1])\n"
        "line = sys.argv[2].encode() + b'\\n'\n"
        "p = subprocess.Popen([sys.executable, '-m', 'engine', 'eval'], stdin=subprocess.PIPE,"
        " stdout=subprocess.DEVNULL)\n"
        "for _ in range(n):\n    p.stdin.write(line)\n"
        "p.stdin.close(); p.wait()\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    peaks = []
    for n in (20_000, 200_000):
        done = subprocess.run(
            [sys.executable, "-c", script, str(n), PAPER], capture_output=True, check=True
        )
        peaks.append(int(done.stdout))
    assert peaks[1] - peaks[0] < 10_000, peaks  # KiB

"""Each load-time check has a bad program in `tests/check/` and its exact diagnostics.

`NAME.rules` is a small policy with one mistake; `NAME.out` is what `rules check` prints
for it. Regenerate the `.out` files with `REGEN=1 pytest tests/test_check.py` and review
the change in `git diff`.
"""

import os
import re
from pathlib import Path

import pytest

import engine

HERE = Path(__file__).parent
PROGRAMS = sorted((HERE / "check").glob("*.rules"))


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_bad_program_gives_its_diagnostics(program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(Path("check") / program.name)
    rendered = str(caught.value) + "\n"
    expected_file = program.with_suffix(".out")
    if os.environ.get("REGEN"):
        expected_file.write_text(rendered, encoding="utf-8")
    assert rendered == expected_file.read_text(encoding="utf-8")


def test_every_check_has_a_program() -> None:
    """Every policy diagnostic code in docs/errors.md is shown by a program here."""
    printed = "".join(p.with_suffix(".out").read_text(encoding="utf-8") for p in PROGRAMS)
    docs = (HERE.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    table = docs.split("## Record errors")[0]
    codes = set(re.findall(r"^\| `([a-z-]+)`", table, re.MULTILINE))
    codes |= set(re.findall(r"^\| `[a-z-]+`, `([a-z-]+)`", table, re.MULTILINE))
    # about files: see test_api and test_policyset
    file_level = {"unreadable", "no-policy", "too-large", "set-file", "set-overlap",
                  "outside-folder"}  # fmt: skip
    assert len(codes) > 35
    missing = sorted(c for c in codes - file_level if f"error[{c}]" not in printed)
    assert missing == []


def test_the_bundled_policy_checks_clean() -> None:
    policy = engine.load()
    assert policy.name == "binzhou"
    assert len(policy.version) == 12

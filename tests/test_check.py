"""Each load-time check has a bad program in `tests/check/` and its exact diagnostics.

`NAME.rules` is a small policy with one mistake; `NAME.out` is what `rules check` prints
for it. Regenerate the `.out` files with `REGEN=1 pytest tests/test_check.py` and review
the change in `git diff`.
"""

import os
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
    printed = "".join(p.with_suffix(".out").read_text(encoding="utf-8") for p in PROGRAMS)
    for code in (
        "syntax",
        "full-width-punctuation",
        "unexpected-end",
        "unexpected-character",
        "type",
        "unknown-name",
        "ambiguous-member",
        "forward-reference",
        "row-length",
        "unknown-member",
        "duplicate-row",
        "duplicate-column",
        "reachable-hole",
        "reachable-gap",
        "bracket-overlap",
        "bracket-gap",
        "missing-rule",
        "duplicate",
        "duplicate-rule",
        "recursion",
        "no-next-member",
        "regime-overlap",
        "regime-gap",
        "maybe-absent",
        "missing-cite",
        "reserved-field",
        "domain",
    ):
        assert f"error[{code}]" in printed, code


def test_the_bundled_policy_checks_clean() -> None:
    policy = engine.load()
    assert policy.name == "binzhou"
    assert len(policy.version) == 12

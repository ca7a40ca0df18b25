"""`rules test --update`: the actual values written into the failing expectations.

Input: a case file and the outcomes of its cases. Output: the file with each differing
value of an `expect:` entry (`r1: {amount: 3, counted: true}`) replaced by the actual
one, in place, comments and layout kept; and a line per change for the officer to
review (`git diff`). Values it cannot place (a table row, a nested value, a report row)
are left, and said so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.tools.cases import Outcome, yaml_text


def update(path: Path, outcomes: list[Outcome]) -> list[str]:
    """Write the actual values into `path`'s failing expectations; what was done."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = sorted({o.case.line for o in outcomes})
    said = []
    for outcome in outcomes:
        case = outcome.case
        end = next((s for s in starts if s > case.line), len(lines) + 1)
        for ident, key, value in outcome.fixes:
            if ident in case.lines:
                said.append(f"{path}:{case.lines[ident]}: {ident}.{key}: a table row, not updated")
                continue
            at = _write(lines, case.line, end, ident, key, yaml_text(value))
            if at:
                said.append(f"{path}:{at}: {ident}.{key} = {yaml_text(value)}")
            else:
                said.append(f"{path}:{case.line}: {ident}.{key}: not found, not updated")
    path.write_text("".join(lines), encoding="utf-8")
    return said


def _write(lines: list[str], first: int, end: int, ident: Any, key: str, value: str) -> int:
    """Replace `key: OLD` in the expectation of `ident` (within lines first..end-1): on the
    line that opens it (`r1: {…}`, `expect: {r1: {…}}`) after its id, or on the lines below
    it that are indented further."""
    entry = re.compile(rf"(?:^\s*|[{{,]\s*){re.escape(str(ident))}\s*:(?!\s*[^\s{{])")
    pattern = re.compile(rf"(\b{re.escape(key)}\s*:\s*)([^,}}\n#]*[^,}}\n#\s])")
    for number in range(first, min(end, len(lines) + 1)):
        opened = entry.search(lines[number - 1])
        if opened is None or "id:" in lines[number - 1][: opened.start() + 1]:
            continue
        depth = len(lines[number - 1]) - len(lines[number - 1].lstrip())
        for at in range(number, min(end, len(lines) + 1)):
            text = lines[at - 1]
            if at > number and len(text) - len(text.lstrip()) <= depth:
                break
            start = opened.end() if at == number else 0
            found = pattern.search(text, start)
            if found is not None:
                lines[at - 1] = text[: found.start(2)] + value + text[found.end(2) :]
                return at
    return 0

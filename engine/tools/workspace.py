"""The policy and golden cases a command works on when none is named: the files being edited.

From the working folder up to the file system's root, the first folder that is either
of these decides (a folder is asked 1 before 2):

1. a policy folder — it holds a `.rules` file with a `policy` declaration: that policy;
   its golden cases are its own `cases/` folder, else its own `tests/golden/`, else — when
   it is a repository's default policy (the `DEFAULT` file beside it names it) — the
   repository's `tests/golden/`; `rules fmt` formats the folder;
2. a repository — it has `policies/DEFAULT`: the policy folder that file names, and
   `tests/golden/`; `rules fmt` formats all of `policies/`.

Where neither is found: the bundled copy, the installed package's policy and cases.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.running.protocol import Decides
from engine.syntax.resources import bundled_cases_path, bundled_policy_path, policies_dir

POLICY_LINE = re.compile(r"^[ \t]*policy[ \t]+[^\W\d]", re.MULTILINE)


@dataclass(frozen=True)
class Workspace:
    """What a command works on when it is named no policy."""

    policy: Path  # the default policy's folder
    cases: Path | None  # its golden cases' folder, if it has one
    sources: Path  # what `rules fmt` formats without a path
    bundled: bool = False  # nothing was found: the installed copy


def find(start: Path | None = None) -> Workspace:
    """The workspace around `start` (default: the working folder); see the module's text."""
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        found = _policy_folder(folder) or _repository(folder)
        if found is not None:
            return found
    return Workspace(bundled_policy_path(), bundled_cases_path(), policies_dir(), bundled=True)


def _policy_folder(folder: Path) -> Workspace | None:
    if not _declares_policy(folder):
        return None
    candidates = [folder / "cases", folder / "tests" / "golden"]
    if _default_in(folder.parent) == folder.name:
        candidates.append(folder.parent.parent / "tests" / "golden")
    cases = next((c for c in candidates if c.is_dir()), None)
    return Workspace(folder, cases, folder)


def _repository(folder: Path) -> Workspace | None:
    name = _default_in(folder / "policies")
    if name is None:
        return None
    golden = folder / "tests" / "golden"
    cases = golden if golden.is_dir() else None
    return Workspace(folder / "policies" / name, cases, folder / "policies")


def _declares_policy(folder: Path) -> bool:
    """Whether a `.rules` file right in `folder` has a `policy` declaration."""
    try:
        files = sorted(folder.glob("*.rules"))
    except OSError:
        return False
    return any(POLICY_LINE.search(_text(f)) for f in files)


def _text(file: Path) -> str:
    try:
        return file.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


def _default_in(policies: Path) -> str | None:
    """The policy folder a `policies/DEFAULT` file names, if there is one."""
    try:
        return (policies / "DEFAULT").read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def policy_paths(given: str | Sequence[str] | None) -> tuple[list[Path], bool]:
    """The policy paths given, else the workspace's policy; and whether that is the bundled
    copy."""
    if given:
        return [Path(p) for p in ([given] if isinstance(given, str) else given)], False
    here = find()
    return [here.policy], here.bundled


def shown(path: str | Path) -> str:
    """`path` relative to the working folder when inside it, else absolute."""
    full = Path(os.path.abspath(path))
    try:
        return str(full.relative_to(Path.cwd()))
    except ValueError:
        return str(full)


def named(policy: Decides, paths: Sequence[Path], bundled: bool = False) -> str:
    """A policy as closing lines name it: `NAME 1a2b3c4d5e6f (policies/NAME)`."""
    where = ", ".join(str(p.resolve()) if bundled else shown(p) for p in paths)
    return f"{policy.name} {policy.version} ({'bundled: ' if bundled else ''}{where})"

"""Where the grammar, the bundled policy and its golden cases live.

In an installed wheel they ship inside the package (`engine/_data/`); in a source
checkout they are the repository's own `grammar/`, `policies/` and `tests/golden/`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # engine/


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    return installed if installed.exists() else _PACKAGE.parent / name


def grammar_path() -> Path:
    return _data_dir("grammar") / "rules.lark"


def policies_dir() -> Path:
    return _data_dir("policies")


def bundled_policy_path() -> Path:
    """The default policy: the folder named in `policies/DEFAULT`."""
    folder = policies_dir()
    return folder / (folder / "DEFAULT").read_text(encoding="utf-8").strip()


def bundled_cases_path() -> Path:
    """The bundled policy's golden cases."""
    return _data_dir("tests") / "golden"

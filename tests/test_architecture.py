"""The folders of `engine/` are the stages of the pipeline; imports flow one way.

A stage may import itself and the stages before it, never a later one (imports for type
checking only are exempt): syntax → assembly → checking → running → io → views →
pipeline → service, tools. Lark is imported by the parser alone.
"""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
STAGES = [
    *("syntax", "assembly", "checking", "running", "io"),
    *("views", "pipeline", "service", "tools"),
]


def _imports(path: Path) -> list[tuple[str, int]]:
    """The `engine.…` and `lark` modules a file imports at run time, with their lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
    return found


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "engine" and len(parts) > 1 and parts[1] in STAGES else None


def test_every_module_lives_in_a_stage_folder() -> None:
    loose = sorted(p.name for p in ENGINE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]
    assert sorted(p.name for p in ENGINE.iterdir() if (p / "__init__.py").exists()) == sorted(
        STAGES
    )


def test_no_stage_imports_a_later_one() -> None:
    wrong = []
    for path in sorted(ENGINE.rglob("*.py")):
        here = _stage("engine." + ".".join(path.relative_to(ENGINE).with_suffix("").parts))
        if here is None:
            continue
        for module, line in _imports(path):
            there = _stage(module)
            if there is not None and STAGES.index(there) > STAGES.index(here):
                wrong.append(f"{path.relative_to(ENGINE)}:{line} imports {module}")
    assert wrong == []


def test_only_the_parser_imports_lark() -> None:
    users = {
        str(path.relative_to(ENGINE))
        for path in ENGINE.rglob("*.py")
        for module, _ in _imports(path)
        if module.split(".")[0] == "lark"
    }
    assert users == {"syntax/parse.py"}

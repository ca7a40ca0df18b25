"""The builtins' two tables: declared once (checking), implemented once (running)."""

from engine.checking.builtins import BUILTINS
from engine.running.builtins import IMPLEMENTATIONS


def test_every_declared_builtin_is_implemented_and_nothing_else() -> None:
    assert set(BUILTINS) == set(IMPLEMENTATIONS)
    assert set(BUILTINS) == {
        "min",
        "max",
        "floor",
        "ceil",
        "round",
        "lower",
        "higher",
        "sum",
        "count",
        "met",
    }


def test_every_builtin_declares_its_arity_and_the_words_explanations_use() -> None:
    for name, spec in BUILTINS.items():
        assert spec.name == name and spec.words
        assert spec.least >= 1 and (spec.most is None or spec.most >= spec.least)

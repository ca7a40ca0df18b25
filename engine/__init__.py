"""rules: a declarative policy-as-data engine.

`engine.load(path)` reads, checks and compiles a policy written in `.rules` files;
the `Policy` it returns evaluates records exactly, explains each amount with cited
steps and exports the JSON Schema of its records.
"""

from engine.compile import EvaluationError
from engine.diagnostics import Diagnostic, PolicyError
from engine.policy import Policy, load
from engine.records import RecordError

__all__ = ["Diagnostic", "EvaluationError", "Policy", "PolicyError", "RecordError", "load"]

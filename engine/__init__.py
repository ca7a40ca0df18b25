"""rules: a declarative policy-as-data engine.

`engine.load(path)` reads, checks and compiles a policy written in `.rules` files;
the `Policy` it returns evaluates records exactly, explains each amount with cited
steps and exports the JSON Schema of its records. Several paths, or a set file, give a
`PolicySet`: the same interface, each record decided by the policy in force in its year.
"""

from engine.compile import EvaluationError
from engine.diagnostics import Diagnostic, PolicyError
from engine.policy import Policy, load
from engine.policyset import PolicySet
from engine.records import RecordError

__all__ = [
    "Diagnostic",
    "EvaluationError",
    "Policy",
    "PolicyError",
    "PolicySet",
    "RecordError",
    "load",
]

"""rules: a declarative policy-as-data engine.

`engine.load(path)` reads, checks and compiles a policy written in `.rules` files;
the `Policy` it returns evaluates records exactly, explains each amount with cited
steps and exports the JSON Schema of its records. Several paths, or a set file, give a
`PolicySet`: the same interface, each record decided by the policy in force in its year.
"""

__version__ = "0.1.0"  # the distribution's version, as in pyproject.toml

from engine.pipeline.policy import Policy, load
from engine.pipeline.policyset import PolicySet
from engine.running.compile import EvaluationError
from engine.running.records import RecordError
from engine.syntax.diagnostics import Diagnostic, PolicyError

__all__ = [
    "Diagnostic",
    "EvaluationError",
    "Policy",
    "PolicyError",
    "PolicySet",
    "RecordError",
    "__version__",
    "load",
]

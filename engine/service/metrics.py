"""Service metrics in the Prometheus text format: requests, records, errors, latency.

Input: what the service counts as it answers. Output: the text `GET /metrics` serves
(exposition format 0.0.4). Counters and the latency histogram are kept under one lock,
so the numbers of one scrape are consistent with each other.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in labels)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(labels, escaped, strict=True)) + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self.histogram: dict[Labels, list[float]] = {}  # labels -> bucket counts, sum, count

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self.counters[name][key] += amount

    def observe(self, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            row = self.histogram.setdefault(key, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1

    def text(self, gauges: Iterable[tuple[str, str, Labels, float]] = ()) -> str:
        """The exposition text; `gauges` are (name, help, labels, value) read at scrape."""
        helps = {
            "rules_requests_total": "HTTP requests answered, by path, method and status.",
            "rules_records_total": "Records decided, by endpoint.",
            "rules_record_errors_total": "Records refused with an error object, by code.",
            "rules_policy_reloads_total": "Policy reloads after a file changed, by result.",
        }
        lines: list[str] = []
        with self._lock:
            for name, help_text in helps.items():
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
                for labels, value in sorted(self.counters.get(name, {}).items()):
                    lines.append(f"{name}{_labels(labels)} {value:g}")
            name = "rules_request_duration_seconds"
            lines += [
                f"# HELP {name} Time to answer a request, by path.",
                f"# TYPE {name} histogram",
            ]
            for labels, row in sorted(self.histogram.items()):
                for bound, count in zip(BUCKETS, row, strict=False):
                    lines.append(
                        f"{name}_bucket{_labels((*labels, ('le', f'{bound:g}')))} {count:g}"
                    )
                lines.append(f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {row[-1]:g}")
                lines.append(f"{name}_sum{_labels(labels)} {row[-2]:.6f}")
                lines.append(f"{name}_count{_labels(labels)} {row[-1]:g}")
        for name, help_text, labels, value in gauges:
            lines += [
                f"# HELP {name} {help_text}",
                f"# TYPE {name} gauge",
                f"{name}{_labels(labels)} {value:g}",
            ]
        return "\n".join(lines) + "\n"

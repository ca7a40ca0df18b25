"""The policy a service decides with, reloaded safely when its files change.

Input: the policy paths the service was started with. Output: `current`, the loaded
policy (or set), replaced in one assignment only by a new version that loads and
checks; a version that fails leaves the old one serving and its diagnostics in
`status`. A request reads `current` once and keeps that object to the end, so no
request ever sees a half-loaded policy.
"""

from __future__ import annotations

import gc
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.pipeline.policy import SET_SUFFIXES, load
from engine.running.protocol import Decides
from engine.syntax.diagnostics import PolicyError, as_dict
from engine.syntax.resources import bundled_policy_path

log = logging.getLogger("rules.serve")


def settle() -> None:
    """Collect what the last load left, then exempt what is alive now (the policy, its
    caches) from the collector's scans: requests make many short-lived objects, and a
    scan of every long-lived one each time would cost more than the requests' own work."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def now() -> str:
    """The time now, UTC, as ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PolicyHolder:
    def __init__(self, paths: list[str] | None) -> None:
        self.paths = paths
        self.current: Decides = load(paths)
        self.loaded_at = now()
        self.status: dict[str, Any] = {"result": "ok", "at": self.loaded_at, "diagnostics": []}
        self.reloads = {"ok": 0, "failed": 0}
        self._lock = threading.Lock()  # one reload at a time
        self.fingerprint = self._fingerprint()

    def _watched(self) -> list[Path]:
        """The policy folders in use (a base's included) and any set file."""
        folders = {Path(name).parent for name in self.current.sources}
        given = [Path(p) for p in self.paths] if self.paths else [bundled_policy_path()]
        sets = [p for p in given if p.suffix in SET_SUFFIXES]
        return sorted(folders) + sets

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """Name, modification time and size of every watched file: a change of any of
        them, or a file added to or taken from a folder, changes the fingerprint."""
        out = []
        for path in self._watched():
            files = sorted(path.glob("*.rules")) if path.is_dir() else [path]
            for file in files:
                try:
                    stat = file.stat()
                except OSError:
                    continue
                out.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(out)

    def reload_if_changed(self) -> bool:
        """Load again if a file changed; swap only if the new version checks. Whether a
        new version now serves."""
        with self._lock:
            fingerprint = self._fingerprint()
            if fingerprint == self.fingerprint:
                return False
            self.fingerprint = fingerprint
            try:
                policy = load(self.paths)
            except PolicyError as error:
                self.reloads["failed"] += 1
                self.status = {
                    "result": "failed",
                    "at": now(),
                    "message": str(error),
                    "diagnostics": [as_dict(d) for d in error.diagnostics],
                }
                log.error(
                    "policy reload failed; still serving %s %s:\n%s",
                    self.current.name,
                    self.current.version,
                    error,
                )
                return False
            self.current = policy  # the one assignment that makes the new version serve
            settle()
            self.loaded_at = now()
            self.reloads["ok"] += 1
            self.status = {"result": "ok", "at": self.loaded_at, "diagnostics": []}
            log.info("policy reloaded: %s %s", policy.name, policy.version)
            return True

    def describe(self) -> dict[str, Any]:
        """The loaded policies, their versions and years, and the last reload."""
        current = self.current
        policies = []
        for member in current.members:
            lineage = member.lineage
            policies.append(
                {
                    "name": member.name,
                    "label": member.label,
                    "version": member.version,
                    "years": _years(member.years),
                    "regimes": [
                        {
                            "name": r.name,
                            "label": r.label,
                            "years": _years((r.first, r.last)),
                            "unit": r.unit,
                            "unit_label": r.unit_label,
                        }
                        for r in member.regimes
                    ],
                    "extends": None
                    if lineage is None
                    else {"name": lineage.base, "version": lineage.base_version},
                    "files": sorted(Path(f).name for f in member.sources),
                }
            )
        out: dict[str, Any] = {
            "policies": policies,
            "loaded_at": self.loaded_at,
            "reload": self.status,
        }
        if len(current.members) > 1:
            out["set"] = {"name": current.name, "version": current.version}
        return out


def _years(years: tuple[int | None, int | None]) -> dict[str, int | None]:
    return {"first": years[0], "last": years[1]}

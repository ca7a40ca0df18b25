"""The policy a service decides with, reloaded safely when its files change.

Input: the policy paths the service was started with. Output: `current`, the loaded
policy (or set), replaced in one assignment only by a new version whose files have
stopped changing (unchanged for `settle` seconds), that loads and checks, and that
keeps every kind, year summary and window of the version serving (unless a shrink is
allowed or confirmed). A version that fails or is held back leaves the old one serving,
its reason in `status` and `ready()`. A request reads `current` once and keeps that
object to the end, so no request ever sees a half-loaded policy.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.pipeline.policy import SET_SUFFIXES, load
from engine.running.protocol import Decides
from engine.syntax.diagnostics import PolicyError, as_dict
from engine.syntax.resources import bundled_policy_path

log = logging.getLogger("rules.serve")
Fingerprint = tuple[tuple[str, int, int, int], ...]


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


def shape(policy: Decides) -> set[str]:
    """What a policy decides and sums up: its kinds, year summaries and windows."""
    out = set()
    for member in policy.members:
        model = member.model
        out |= {f"kind `{k}` of `{member.name}`" for k in model.kinds}
        out |= {f"the year summary of `{r}` in `{member.name}`" for r in model.summaries}
        out |= {f"window `{w}` of `{member.name}`" for w in model.windows}
    return out


@dataclass
class Held:
    """A new version held back because it drops what the serving one has."""

    policy: Decides
    fingerprint: Fingerprint
    vanished: list[str]


class PolicyHolder:
    def __init__(
        self, paths: list[str] | None, settle: float = 1.0, allow_shrink: bool = False
    ) -> None:
        self.paths, self.settle, self.allow_shrink = paths, settle, allow_shrink
        self.current: Decides = load(paths)
        self.loaded_at = now()
        self.status: dict[str, Any] = {"result": "ok", "at": self.loaded_at, "diagnostics": []}
        self.reloads = {"ok": 0, "failed": 0, "held": 0}
        self._lock = threading.Lock()  # one reload at a time
        self.fingerprint = self._fingerprint()  # of the files last tried
        self._pending: tuple[Fingerprint, float] | None = None  # a change, and since when
        self._held: Held | None = None

    def _watched(self) -> list[Path]:
        """The policy folders in use (a base's included) and any set file."""
        folders = {Path(name).parent for name in self.current.sources}
        given = [Path(p) for p in self.paths] if self.paths else [bundled_policy_path()]
        sets = [p for p in given if p.suffix in SET_SUFFIXES]
        return sorted(folders) + sets

    def _fingerprint(self) -> Fingerprint:
        """Name, inode, modification time and size of every watched file: a change of
        any of them, or a file added to or taken from a folder, changes the fingerprint."""
        out = []
        for path in self._watched():
            files = sorted(path.glob("*.rules")) if path.is_dir() else [path]
            for file in files:
                try:
                    stat = file.stat()
                except OSError:
                    continue
                out.append((str(file), stat.st_ino, stat.st_mtime_ns, stat.st_size))
        return tuple(out)

    def ready(self) -> str | None:
        """Why the version serving is not the one on disk (a reload failed or is held
        back), or None."""
        if self.status["result"] == "ok":
            return None
        return str(self.status["message"])

    def reload_if_changed(self) -> bool:
        """Load again once changed files have settled; swap only if the new version
        checks and drops nothing (or may). Whether a new version now serves."""
        with self._lock:
            seen = self._fingerprint()
            if seen == self.fingerprint:
                self._pending = None
                return False
            if not self._settled(seen):
                return False
            self.fingerprint = seen
            policy = self._load()
            if policy is None:
                return False
            if self._fingerprint() != seen:  # changed while it was read: wait for it again
                self.fingerprint = ()
                return False
            vanished = sorted(shape(self.current) - shape(policy))
            if vanished and not self.allow_shrink:
                self._hold(Held(policy, seen, vanished))
                return False
            self._swap(policy)
            return True

    def _settled(self, seen: Fingerprint) -> bool:
        """Whether the files have looked like `seen` for `settle` seconds."""
        at = time.monotonic()
        if self._pending is None or self._pending[0] != seen:
            self._pending = (seen, at)
        return at - self._pending[1] >= self.settle

    def _load(self) -> Decides | None:
        """The version on disk, or None (the failure is in `status`)."""
        try:
            return load(self.paths)
        except PolicyError as error:
            diagnostics = [as_dict(d) for d in error.diagnostics]
            self._failed(str(error), diagnostics)
        except Exception as error:  # a crash of the checker must not stop the service
            log.exception("policy reload crashed")
            self._failed(f"loading the policy failed: {type(error).__name__}: {error}", [])
        return None

    def _failed(self, message: str, diagnostics: list[dict[str, Any]]) -> None:
        self.reloads["failed"] += 1
        self._held = None
        self.status = {
            "result": "failed",
            "at": now(),
            "message": message,
            "diagnostics": diagnostics,
        }
        log.error(
            "policy reload failed; still serving %s %s:\n%s",
            self.current.name,
            self.current.version,
            message,
        )

    def _hold(self, held: Held) -> None:
        self.reloads["held"] += 1
        self._held = held
        new = held.policy
        message = (
            f"held back {new.name} {new.version}: it drops "
            + "; ".join(held.vanished)
            + f'; confirm with POST /v1/policies/confirm {{"version": "{new.version}"}}'
        )
        self.status = {
            "result": "held",
            "at": now(),
            "message": message,
            "version": new.version,
            "vanished": held.vanished,
            "diagnostics": [],
        }
        log.warning("policy reload %s; still serving %s", message, self.current.version)

    def confirm(self, version: str) -> bool:
        """Serve the held-back version `version` if the files on disk still make it."""
        with self._lock:
            held = self._held
            if held is None or held.policy.version != version:
                return False
            if self._fingerprint() != held.fingerprint:
                return False
            self._swap(held.policy)
            return True

    def _swap(self, policy: Decides) -> None:
        self.current = policy  # the one assignment that makes the new version serve
        self._held = None
        settle()
        self.loaded_at = now()
        self.reloads["ok"] += 1
        self.status = {"result": "ok", "at": self.loaded_at, "diagnostics": []}
        log.info("policy reloaded: %s %s", policy.name, policy.version)

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
                    else {
                        "name": lineage.base,
                        "version": lineage.base_version,
                        "gap": None if lineage.gap is None else _years(lineage.gap),
                    },
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

"""The decision log: one JSON line per decision, appended, for audit.

Input: decisions as they are made (the input, the result, the policy that decided).
Output: a JSON Lines file opened for appending. Each request's lines go to the file in
one `write` before the request is answered, so a crash or a kill loses at most the
decisions of the request in flight, which no one was told of. A kill in the middle of
that write can leave its last line unfinished; opening the log cuts it, so that every
line is whole again before the next is written.
With a salt, `person` is replaced by a keyed hash (HMAC-SHA256), in the input and in
the result, and in the message of an error about it, since it may be an ID-card number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from engine.running.jsonout import dumps, loads
from engine.running.records import show


class Encoded(bytes):
    """A value already written as JSON, UTF-8 (a result the service has encoded)."""


def read_salt(path: Path) -> bytes:
    """The salt in `path`, made (random, readable by the owner only) if there is none."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode()


class DecisionLog:
    def __init__(self, path: Path, salt: bytes | None = None, fsync: bool = False) -> None:
        self.path, self.salt, self.fsync = path, salt, fsync
        self.dropped = self._repair(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)

    @staticmethod
    def _repair(path: Path) -> int:
        """Cut a last line left unfinished by a kill (a decision in flight, never answered)
        so that every line of the log is whole again; how many bytes were cut."""
        if not path.exists():
            return 0
        with path.open("r+b") as log:
            size = log.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            log.seek(size - 1)
            if log.read(1) == b"\n":
                return 0
            end, chunk = size, 65536
            while end > 0:  # back to the last whole line
                start = max(0, end - chunk)
                log.seek(start)
                at = log.read(end - start).rfind(b"\n")
                if at >= 0:
                    end = start + at + 1
                    break
                end = start
            log.truncate(end)
            return size - end

    def person(self, person: Any) -> Any:
        """A person's key as logged: as given, or its keyed hash (of the text, or of the
        JSON text of any other value, so that a number or a list is hidden too)."""
        if self.salt is None or person is None:
            return person
        text = person if isinstance(person, str) else dumps(person)
        digest = hmac.new(self.salt, text.encode(), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"

    def _unshown(self, result: Any, given: Any) -> Any:
        """An error result with the invalid `person` its message echoes (and an
        explanation's text) replaced by the person's hash."""
        person = given.get("person") if isinstance(given, dict) else None
        error = result.get("error") if isinstance(result, dict) else None
        if person is None or isinstance(person, str) or not isinstance(error, dict):
            return result
        said = str(error.get("message", ""))
        unsaid = said.replace(show(person), self.person(person))
        out = {**result, "error": {**error, "message": unsaid}}
        if isinstance(result.get("text"), list):
            out["text"] = [str(line).replace(said, unsaid) for line in result["text"]]
        return out

    def _masked(self, value: Any) -> Any:
        """Records and results with `person` hashed (they keep it at the top level)."""
        if self.salt is None:
            return value
        if isinstance(value, list):
            return [self._masked(v) for v in value]
        if isinstance(value, dict) and "person" in value:
            return {**value, "person": self.person(value["person"])}
        return value

    def write(self, entries: list[dict[str, Any]]) -> None:
        """Append the decisions of one request: each a dict with `time`, `request_id`,
        `endpoint`, `policy`, `version`, `input` and `result`."""
        if not entries:
            return
        lines = []
        heads: dict[tuple[Any, ...], bytes] = {}  # the fields a request's decisions share
        for entry in entries:
            result = entry["result"]
            if self.salt is not None:
                result = self._masked(loads(result.decode()) if type(result) is Encoded else result)
                result = self._unshown(result, entry["input"])
            shared = tuple(v for k, v in entry.items() if k not in ("input", "result"))
            head = heads.get(shared)
            if head is None:
                fields = {k: v for k, v in entry.items() if k not in ("input", "result")}
                head = heads[shared] = dumps(fields)[:-1].encode() + b', "input": '
            text = result if type(result) is Encoded else dumps(result).encode()
            given = dumps(self._masked(entry["input"])).encode()
            lines.append(head + given + b', "result": ' + text + b"}")
        data = b"\n".join(lines) + b"\n"
        written = 0
        while written < len(data):  # a regular file takes it whole; loop if it does not
            written += os.write(self._fd, data[written:])
        if self.fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)

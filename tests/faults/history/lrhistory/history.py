"""The history of a run: every call with its start and end time, outcome,
request and answer, one JSON object a line, written as it happens so a run
that dies still leaves what it did.

An entry:

    {"id": 17, "proc": "client-3", "op": "create", "start": 1.234, "end": 1.240,
     "outcome": "ok" | "failed" | "unknown", "code": "NOT_FOUND" | null,
     "name": "projects/.../operations/x" | null, "req": {...}, "ans": {...}}

Times are seconds on one monotonic clock since the history began. Faults
(kill -9, SIGTERM, restarts) are entries too, with `"op": "fault"`, so a
failure can be read against them. A watch entry carries `events`: each
element the stream gave, with the time it arrived.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterable


class History:
    def __init__(self, path: Path | None = None):
        self.t0 = time.monotonic()
        self.entries: list[dict] = []
        self._lock = threading.Lock()
        self._file = open(path, "w") if path is not None else None
        self.path = path

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 6)

    def record(self, entry: dict) -> dict:
        with self._lock:
            entry["id"] = len(self.entries)
            self.entries.append(entry)
            if self._file is not None:
                self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
                self._file.flush()
        return entry

    def fault(self, what: str, **details: Any) -> dict:
        t = self.now()
        return self.record({"proc": "faults", "op": "fault", "what": what, "start": t, "end": t, **details})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def load(path: Path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def compact_operation(op: Any) -> Any:
    """What the checker needs of an Operation (name, done, the result),
    without its metadata, so a history of lists stays small."""
    if not isinstance(op, dict):
        return op
    kept = {k: op[k] for k in ("name", "done", "response", "error") if k in op}
    return kept


def terminal(op: dict) -> str | None:
    """The terminal result of an Operation as one comparable string, None
    while it runs."""
    if not op.get("done"):
        return None
    if "response" in op:
        return "response:" + json.dumps(op["response"], sort_keys=True)
    if "error" in op:
        error = op["error"] or {}
        return f"error:{error.get('code', 0)}:{error.get('message', '')}"
    return "done:empty"


def names_in(entries: Iterable[dict]) -> set[str]:
    """Every operation name any answer or request mentions."""
    found: set[str] = set()
    for e in entries:
        if e.get("name"):
            found.add(e["name"])
        ans = e.get("ans")
        if isinstance(ans, dict):
            for op in ans.get("operations", []) or []:
                if isinstance(op, dict) and op.get("name"):
                    found.add(op["name"])
    return found

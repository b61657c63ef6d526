"""After a run: read every operation back, from every replica given, into
the same history (as proc "final"), so the checker holds these reads to
the same rules as every other."""

from __future__ import annotations

import urllib.parse

from .client import OK, Connection
from .history import History, compact_operation, names_in

PAGE_SIZE = 500
MAX_PAGES = 1000


def final_read(history: History, public_addrs: list[str], parents: tuple[str, ...] | list[str]) -> list[str]:
    """Lists every parent to its last page, then Gets every operation any
    entry named. Returns what went wrong with the reading itself (a call
    that was not answered): the run is then not checkable."""
    problems: list[str] = []
    for addr in public_addrs:
        conn = Connection(addr, timeout_s=30.0)
        try:
            for parent in parents:
                token = ""
                for _ in range(MAX_PAGES):
                    query = {"pageSize": str(PAGE_SIZE)}
                    if token:
                        query["pageToken"] = token
                    start = history.now()
                    answer = conn.call("GET", f"/v1/{parent}/operations?{urllib.parse.urlencode(query)}")
                    end = history.now()
                    body = answer.body if isinstance(answer.body, dict) else {}
                    history.record({
                        "proc": "final", "op": "list", "start": start, "end": end, "outcome": answer.outcome,
                        "code": answer.code, "name": None, "addr": addr, "req": {"parent": parent, **query},
                        "ans": {"operations": [compact_operation(o) for o in body.get("operations") or []]}
                        if answer.outcome == OK else body,
                    })
                    if answer.outcome != OK:
                        problems.append(f"final List of {parent} on {addr}: {answer.outcome} {answer.code}")
                        break
                    token = body.get("nextPageToken") or ""
                    if not token:
                        break
            for name in sorted(names_in(history.entries)):
                start = history.now()
                answer = conn.call("GET", f"/v1/{name}")
                end = history.now()
                history.record({
                    "proc": "final", "op": "get", "start": start, "end": end, "outcome": answer.outcome,
                    "code": answer.code, "name": name, "addr": addr, "req": {},
                    "ans": compact_operation(answer.body) if answer.outcome == OK else answer.body,
                })
                if answer.outcome == "unknown" or (answer.code or "").startswith("CONNECT"):
                    problems.append(f"final Get of {name} on {addr}: {answer.outcome} {answer.code}")
        finally:
            conn.close()
    return problems

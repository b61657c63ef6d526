"""Checks a recorded history (history.py) against what longrun promises.

Every call that names an operation says something about it at some moment
between the call's start and end: it was running, it was done with result
T, or it was gone (NOT_FOUND). An acknowledged write says so too: an
acknowledged Complete means "done with my result" from its end on, an
acknowledged Delete means "gone", an acknowledged Cancel of a zero-grace
operation means "done". Those observations, in real-time order (A before B
when A ended before B started), must never go backwards:

- lost create: an operation some answer showed is NOT_FOUND later, and no
  Delete of it (acknowledged or unknown) had started by then;
- lost complete / lost cancel: running in a read that began after an
  acknowledged Complete (or zero-grace Cancel) ended;
- lost delete, resurrection: present in a read that began after an
  acknowledged Delete, or after a read that found it gone;
- done -> running: running in a read that began after one that saw it done;
- double terminal: two different results, whenever seen (an acknowledged
  Complete counts as seeing its own result);
- cancel lost to a result: after an acknowledged zero-grace Cancel, the
  result is not CANCELLED though no Complete (acknowledged or unknown) had
  started before the Cancel ended;
- cancel deadline lost: an operation with a grace above zero still running
  in the final read, long after an acknowledged Cancel's grace ran out;
- request_id reused: two acknowledged Creates with one request_id under one
  parent answered different operations, and no Delete of the first had
  started before the second ended;
- wait over its bound: a Wait answered later than its timeout plus
  `wait_slack_s`.

Unknown outcomes may go either way: they add no observation, but they do
excuse what they might have done (an unknown Delete explains a later
NOT_FOUND; an unknown Complete explains a result other than CANCELLED).
Once a read shows which way one went, every later read must agree, which
the ordering rules above enforce.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from .history import terminal

RUNNING, DONE, GONE = 1, 2, 3
RANK_TEXT = {RUNNING: "running", DONE: "done", GONE: "gone"}

# The kinds that mean an acknowledged write was lost.
LOST_KINDS = frozenset({"lost create", "lost complete", "lost cancel", "lost delete", "cancel deadline lost"})

DEFAULT_WAIT_SLACK_S = 2.0
DEFAULT_GRACE_SLACK_S = 3.0


@dataclass(frozen=True)
class Violation:
    kind: str
    name: str
    detail: str
    ids: tuple[int, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}: {self.detail} (entries {list(self.ids)})"


@dataclass
class Observation:
    start: float
    end: float
    rank: int
    result: str | None  # the terminal result when rank is DONE and it is known
    entry_id: int
    source: str  # "read", or the acknowledged write: "complete", "delete", "cancel"


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    calls: int = 0
    unknown: int = 0
    failed: int = 0
    operations: int = 0
    acknowledged_writes: int = 0

    @property
    def lost(self) -> int:
        """Distinct (operation, kind) pairs of lost acknowledged writes."""
        return len({(v.name, v.kind) for v in self.violations if v.kind in LOST_KINDS})

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for v in self.violations:
            counts[v.kind] += 1
        return dict(counts)


def _request_terminal(body: dict) -> str | None:
    """The result a Complete request asks to store, in terminal()'s form."""
    if not isinstance(body, dict):
        return None
    return terminal({"done": True, **{k: body[k] for k in ("response", "error") if k in body}})


def _op_observation(op: dict, start: float, end: float, entry_id: int) -> Observation:
    result = terminal(op)
    return Observation(start, end, DONE if op.get("done") else RUNNING, result, entry_id, "read")


def observations(entries: Iterable[dict]) -> dict[str, list[Observation]]:
    by_name: dict[str, list[Observation]] = defaultdict(list)
    for e in entries:
        op = e.get("op")
        if op == "fault":
            continue
        outcome = e.get("outcome")
        name = e.get("name")
        start, end, eid = e["start"], e["end"], e["id"]
        ans = e.get("ans")
        if outcome == "failed" and e.get("code") == "NOT_FOUND" and name and op != "create":
            by_name[name].append(Observation(start, end, GONE, None, eid, "read"))
            continue
        if op == "watch":
            for ev in e.get("events", []):
                if "op" in ev and isinstance(ev["op"], dict) and ev["op"].get("name"):
                    by_name[ev["op"]["name"]].append(_op_observation(ev["op"], start, ev["t"], eid))
                elif (ev.get("error") or {}).get("status") == "NOT_FOUND" and name:
                    by_name[name].append(Observation(start, ev["t"], GONE, None, eid, "read"))
            continue
        if outcome != "ok":
            if op == "complete" and e.get("code") == "FAILED_PRECONDITION" and name:
                by_name[name].append(Observation(start, end, DONE, None, eid, "read"))
            continue
        if op in ("get", "wait", "create") and isinstance(ans, dict) and ans.get("name"):
            by_name[ans["name"]].append(_op_observation(ans, start, end, eid))
        elif op == "list" and isinstance(ans, dict):
            for item in ans.get("operations") or []:
                if isinstance(item, dict) and item.get("name"):
                    by_name[item["name"]].append(_op_observation(item, start, end, eid))
        elif op == "update" and name:
            by_name[name].append(Observation(start, end, RUNNING, None, eid, "update"))
        elif op == "complete" and name:
            by_name[name].append(Observation(start, end, DONE, _request_terminal(e.get("req")), eid, "complete"))
        elif op == "delete" and name:
            by_name[name].append(Observation(start, end, GONE, None, eid, "delete"))
    return by_name


def _backwards_kind(before: Observation, after: Observation) -> str:
    if before.rank == GONE:
        return "lost delete" if before.source == "delete" else "resurrection"
    if before.source == "complete":
        return "lost complete"
    if before.source == "cancel":
        return "lost cancel"
    return "done -> running"


def _check_order(name: str, obs: list[Observation], out: list[Violation]) -> None:
    """Every observation must rank at least as high as every one that ended
    before it started. One sweep: observations by start, and a pointer over
    them by end that keeps the highest-ranked one already ended."""
    by_end = sorted(obs, key=lambda o: o.end)
    i = 0
    highest: Observation | None = None
    reported: set[str] = set()
    for b in sorted(obs, key=lambda o: o.start):
        while i < len(by_end) and by_end[i].end < b.start:
            if highest is None or by_end[i].rank > highest.rank:
                highest = by_end[i]
            i += 1
        if highest is not None and b.rank < highest.rank:
            kind = _backwards_kind(highest, b)
            if kind in reported:
                continue
            reported.add(kind)
            out.append(Violation(
                kind, name,
                f"{RANK_TEXT[highest.rank]} ({highest.source}, ended {highest.end:.3f}) then "
                f"{RANK_TEXT[b.rank]} ({b.source}, started {b.start:.3f})",
                (highest.entry_id, b.entry_id),
            ))


def check(
    entries: list[dict],
    *,
    wait_slack_s: float = DEFAULT_WAIT_SLACK_S,
    grace_slack_s: float = DEFAULT_GRACE_SLACK_S,
) -> Report:
    report = Report()
    calls = [e for e in entries if e.get("op") != "fault"]
    report.calls = len(calls)
    report.unknown = sum(1 for e in calls if e.get("outcome") == "unknown")
    report.failed = sum(1 for e in calls if e.get("outcome") == "failed")
    report.acknowledged_writes = sum(
        1 for e in calls if e.get("outcome") == "ok" and e.get("op") in ("create", "update", "complete", "cancel", "delete")
    )
    out = report.violations

    # What each Create that named an operation asked for (its grace, its request_id).
    grace_of: dict[str, float] = {}
    for e in calls:
        if e["op"] == "create" and e["outcome"] == "ok" and e.get("name"):
            text = (e.get("req") or {}).get("cancelGrace", "")
            if text.endswith("s") and not text.endswith("ms"):
                try:
                    grace_of[e["name"]] = float(text[:-1])
                except ValueError:
                    pass

    by_name = observations(calls)
    by_id = {e["id"]: e for e in calls}
    deletes: dict[str, list[dict]] = defaultdict(list)
    completes: dict[str, list[dict]] = defaultdict(list)
    cancels: dict[str, list[dict]] = defaultdict(list)
    for e in calls:
        if e.get("name") and e["outcome"] in ("ok", "unknown"):
            if e["op"] == "delete":
                deletes[e["name"]].append(e)
            elif e["op"] == "complete":
                completes[e["name"]].append(e)
            elif e["op"] == "cancel" and e["outcome"] == "ok":
                cancels[e["name"]].append(e)

    # An acknowledged zero-grace Cancel is an observation: done from its end on.
    for name, acked in cancels.items():
        if grace_of.get(name) == 0.0:
            for k in acked:
                by_name[name].append(Observation(k["start"], k["end"], DONE, None, k["id"], "cancel"))
    report.operations = len(by_name)

    for name, obs in by_name.items():
        _check_order(name, obs, out)

        results = {o.result for o in obs if o.result is not None}
        if len(results) > 1:
            ids = tuple(o.entry_id for o in obs if o.result is not None)[:6]
            out.append(Violation("double terminal", name, f"results {sorted(results)}", ids))

        for o in obs:
            if o.rank == GONE and o.source == "read":
                if not any(d["start"] < o.end for d in deletes.get(name, [])):
                    out.append(Violation("lost create", name,
                                         f"NOT_FOUND at {o.start:.3f}-{o.end:.3f} and no Delete had started",
                                         (o.entry_id,)))
                    break

        if grace_of.get(name) == 0.0:
            for k in cancels.get(name, []):
                if any(c["start"] < k["end"] for c in completes.get(name, [])):
                    continue
                wrong = [o for o in obs if o.result is not None and not o.result.startswith("error:1:")]
                if wrong:
                    out.append(Violation("cancel lost to a result", name,
                                         f"cancel acknowledged at {k['end']:.3f}, result {wrong[0].result}",
                                         (k["id"], wrong[0].entry_id)))
                    break

        grace = grace_of.get(name)
        if grace is not None and grace > 0 and cancels.get(name):
            first_ack = min(k["end"] for k in cancels[name])
            for e_obs in obs:
                if e_obs.rank == RUNNING and e_obs.source == "read" and e_obs.start > first_ack + grace + grace_slack_s:
                    if by_id.get(e_obs.entry_id, {}).get("proc") == "final":
                        out.append(Violation("cancel deadline lost", name,
                                             f"cancel acknowledged at {first_ack:.3f}, grace {grace}s, "
                                             f"still running at {e_obs.start:.3f}",
                                             (e_obs.entry_id,)))
                        break

    _check_waits(calls, wait_slack_s, out)
    _check_request_ids(calls, deletes, out)
    return report


def _check_waits(calls: list[dict], slack_s: float, out: list[Violation]) -> None:
    for e in calls:
        if e["op"] == "wait" and e["outcome"] == "ok":
            bound = float((e.get("req") or {}).get("timeout_s", 0)) + slack_s
            took = e["end"] - e["start"]
            if took > bound:
                out.append(Violation("wait over its bound", e.get("name") or "",
                                     f"took {took:.3f}s, bound {bound:.3f}s", (e["id"],)))


def _check_request_ids(calls: list[dict], deletes: dict[str, list[dict]], out: list[Violation]) -> None:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in calls:
        if e["op"] == "create" and e["outcome"] == "ok" and e.get("name"):
            req = e.get("req") or {}
            if req.get("requestId"):
                groups[(req.get("parent", ""), req["requestId"])].append(e)
    for (parent, request_id), creates in groups.items():
        creates.sort(key=lambda e: e["end"])
        for first, second in zip(creates, creates[1:]):
            if first["name"] == second["name"]:
                continue
            if any(d["start"] < second["end"] for d in deletes.get(first["name"], [])):
                continue
            out.append(Violation("request_id reused", first["name"],
                                 f"request_id {request_id} under {parent} also answered {second['name']}",
                                 (first["id"], second["id"])))


def summary(report: Report, limit: int = 20) -> str:
    lines = [f"{report.calls} calls, {report.acknowledged_writes} acknowledged writes, {report.unknown} unknown, {report.failed} failed, "
             f"{report.operations} operations, {len(report.violations)} violations {json.dumps(report.kinds())}"]
    lines += [str(v) for v in report.violations[:limit]]
    if len(report.violations) > limit:
        lines.append(f"... and {len(report.violations) - limit} more")
    return "\n".join(lines)

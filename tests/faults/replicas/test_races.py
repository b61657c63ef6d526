"""Scenario 1: Cancel against Complete on two replicas of one database.

Each race: the worker creates an operation with a cancel grace and starts
it with an Update, on its replica; then a client's Cancel (public API of
the other replica) and the worker's Complete with a response (control API
of the worker's replica) are sent together (the client is on A and the
worker on B in even races, the other way round in odd ones), the two threads released by one barrier. Races run in
parallel, `PAIRS` at a time. When every race of a grace is over, every
operation is read from both replicas.

What docs/behaviour.md promises, and so what each race must show:

- grace 0: Cancel ends the started operation at once. Whoever commits first
  wins: either Complete is acknowledged (OK) and the operation holds its
  response (the later Cancel succeeds and changes nothing), or Complete is
  refused with FAILED_PRECONDITION / OPERATION_ALREADY_DONE and the
  operation is CANCELLED (code 1).
- grace above zero: Cancel only records the request; the worker, answering
  within the grace, wins: Complete is acknowledged and the response stands.
  Complete refused as already done means the grace timer ended it first,
  which is right only if the grace really ran out (the Complete was
  answered at least the grace after the Cancel was sent: on a loaded
  machine a call can take longer than 1 s), and then the operation must be
  CANCELLED.
- Cancel is acknowledged in every case (Cancel of a done operation succeeds).

Counted, with a target of zero each:

- double terminal state: two different results seen for one operation
  among the three views (Get on A, Get on B, and the done operation the
  acknowledged Complete returned), a response and CANCELLED among them
  included, or an operation not done at the end;
- lost race: an acknowledged call whose effect is not the stored outcome
  although it should be: Complete acknowledged but the stored result (read
  on both replicas) is not its response; or Complete refused as already
  done, Cancel acknowledged, and the stored result not CANCELLED;
- errors: any other answer to a race call (a transport error, UNAVAILABLE,
  ABORTED, ...). A race with an unknown Complete outcome is not judged lost
  or won, only counted here.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from conftest import PARENT, SMOKE, Row, record, scaled
from rest import Replica, outcome

RACES = scaled(10_000, 200)
# Races in flight at once (two threads each).
PAIRS = 32
# The long grace is 30 s in a full run. In smoke it is 3 s: every race ends
# long before either, but an operation left running by a failed Complete
# would be waited for until its grace ran out.
LONG_GRACE_S = 3.0 if SMOKE else 30.0
GRACES_S = [0.0, 1.0, LONG_GRACE_S]
# The whole of one grace's races, set up to the last read.
PHASE_LIMIT_S = 900.0


@dataclass
class Race:
    index: int
    name: str = ""
    value: str = ""
    setup_error: str = ""
    cancel_code: str = ""
    complete_code: str = ""
    complete_reason: str = ""
    complete_outcome: str | None = None
    race_ms: float = 0.0
    cancel_sent: float = 0.0
    complete_answered: float = 0.0
    seen: list[str | None] = field(default_factory=list)


def _roles(race: Race, a: Replica, b: Replica) -> tuple[Replica, Replica]:
    """(the client's replica, the worker's replica): A and B in turn, so
    the cancel reaches each replica in half the races."""
    return (a, b) if race.index % 2 == 0 else (b, a)


def _run_pair(a: Replica, b: Replica, grace_s: float, races: list[Race], deadline: float) -> None:
    """One canceller and one completer thread, race after race."""
    barrier = threading.Barrier(2, timeout=60)
    tag = f"g{int(grace_s * 1000)}"

    def canceller() -> None:
        for race in races:
            if time.monotonic() > deadline:
                race.setup_error = "phase time limit"
            else:
                race.name = f"{PARENT}/operations/race-{tag}-{race.index}"
                race.value = f"worker-result-{tag}-{race.index}"
                client, worker = _roles(race, a, b)
                created = worker.create(PARENT, f"race-{tag}-{race.index}", grace_s=grace_s)
                started = worker.update(race.name) if created.ok else created
                if not started.ok:
                    race.setup_error = f"{started.code} {started.body}"
            barrier.wait()
            if race.setup_error:
                continue
            began = race.cancel_sent = time.monotonic()
            race.cancel_code = _roles(race, a, b)[0].cancel(race.name).code
            race.race_ms = max(race.race_ms, (time.monotonic() - began) * 1000)

    def completer() -> None:
        for race in races:
            barrier.wait()
            if race.setup_error:
                continue
            began = time.monotonic()
            done = _roles(race, a, b)[1].complete(race.name, race.value)
            race.complete_answered = time.monotonic()
            race.race_ms = max(race.race_ms, (time.monotonic() - began) * 1000)
            race.complete_code = done.code
            race.complete_reason = done.reason
            if done.ok:
                race.complete_outcome = outcome(done.body)

    threads = [threading.Thread(target=canceller), threading.Thread(target=completer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _wait_done(replica: Replica, race: Race, within_s: float) -> None:
    """An operation whose Complete was not acknowledged may still be waiting
    for its grace: wait for it to end (by the timer) before judging."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        got = replica.get(race.name)
        if got.ok and got.body.get("done"):
            return
        time.sleep(0.2)


def _judge(race: Race, grace_s: float) -> tuple[bool, bool, str]:
    """(double terminal, lost race, error) for one race."""
    error = ""
    if race.setup_error:
        return False, False, f"setup: {race.setup_error}"
    if race.cancel_code != "OK":
        error = f"cancel answered {race.cancel_code}"
    unread = [v for v in race.seen if v is not None and v.startswith("read failed")]
    if unread:
        return False, False, f"{unread[0]}"
    views = list(race.seen)
    if race.complete_outcome is not None:
        views.append(race.complete_outcome)
    double = any(v is None for v in views) or len(set(views)) > 1
    stored = set(race.seen)
    lost = False
    if race.complete_code == "OK":
        lost = stored != {f"response:{race.value}"}
    elif race.complete_code == "FAILED_PRECONDITION" and race.complete_reason == "OPERATION_ALREADY_DONE":
        if race.cancel_code == "OK":
            lost = not all(v is not None and v.startswith("error:1:") for v in race.seen)
            # With a grace, only the timer ends it, and only once the grace
            # ran out: a Complete refused sooner than that after the Cancel
            # was sent lost a race it should have won.
            if grace_s > 0 and race.complete_answered - race.cancel_sent < grace_s:
                lost = True
    else:
        error = error or f"complete answered {race.complete_code} {race.complete_reason}"
    return double, lost, error


@pytest.mark.parametrize("grace_s", GRACES_S, ids=lambda g: f"grace-{g:g}s")
def test_cancel_against_complete_on_two_replicas(replicas, schema, grace_s):
    a = replicas.start(schema.url("a"), "replica-a").replica
    b = replicas.start(schema.url("b"), "replica-b").replica
    races = [Race(i) for i in range(RACES)]
    shares = [races[p::PAIRS] for p in range(PAIRS)]
    began = time.monotonic()
    deadline = began + PHASE_LIMIT_S
    with ThreadPoolExecutor(PAIRS) as pool:
        for f in [pool.submit(_run_pair, a, b, grace_s, share, deadline) for share in shares]:
            f.result()
    raced_s = time.monotonic() - began

    # Races whose Complete was not acknowledged may end by the grace timer.
    unsure = [r for r in races if not r.setup_error and r.complete_code not in ("OK", "FAILED_PRECONDITION")]
    for race in unsure:
        _wait_done(a, race, grace_s + 10)

    def read(race: Race) -> None:
        if race.setup_error:
            return
        for replica in (a, b):
            got = replica.get(race.name)
            race.seen.append(outcome(got.body) if got.ok else f"read failed: {got.code}")

    with ThreadPoolExecutor(PAIRS) as pool:
        list(pool.map(read, races))

    doubles = losts = 0
    errors: list[str] = []
    completed = cancelled = 0
    for race in races:
        double, lost, error = _judge(race, grace_s)
        doubles += double
        losts += lost
        if error:
            errors.append(f"{race.name or race.index}: {error}")
        if race.seen and race.seen[0] is not None:
            completed += race.seen[0].startswith("response:")
            cancelled += race.seen[0].startswith("error:1:")
    latencies = sorted(r.race_ms for r in races if not r.setup_error)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    timer_won = [r.complete_answered - r.cancel_sent for r in races
                 if r.complete_reason == "OPERATION_ALREADY_DONE" and grace_s > 0]
    timer_note = ""
    if timer_won:
        timer_note = (f" (the grace ran out first: those Completes were answered "
                      f"{min(timer_won):.2f}-{max(timer_won):.2f} s after the Cancel was sent)")
    grace_label = f"{grace_s:g} s" + (" (30 s in a full run)" if SMOKE and grace_s == LONG_GRACE_S else "")
    record(Row(
        scenario=f"Cancel vs Complete on two replicas, grace {grace_label}",
        injected="Cancel to one replica, the worker's Complete to the other, sent together",
        times=f"{RACES:,} races ({PAIRS} at a time)",
        lost_errors=f"{doubles} double terminal, {losts} lost, {len(errors)} errors",
        figures=(f"Complete won {completed:,}, Cancel won {cancelled:,}{timer_note}; "
                 f"slower call of the pair p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
                 f"{RACES / raced_s:,.0f} races/s"),
    ))
    assert not errors, f"{len(errors)} race calls failed, e.g. {errors[:5]}"
    assert doubles == 0, "double terminal states: " + str(
        [(r.name, r.seen, r.complete_outcome) for r in races if _judge(r, grace_s)[0]][:5])
    assert losts == 0, "lost races: " + str(
        [(r.name, r.cancel_code, r.complete_code, r.seen) for r in races if _judge(r, grace_s)[1]][:5])

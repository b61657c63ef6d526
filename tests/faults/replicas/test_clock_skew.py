"""Scenario 3: one replica's clock five minutes off (libfaketime).

Replica S runs under libfaketime with FAKETIME=+5m (then `-5m`), replica H on the true
clock, both on one database. A grace deadline must end within 1 s of
"cancel acknowledged + grace" by the database's clock, whichever replica
took the cancel and whichever replica's timer ends it. So each skew runs
four phases: the cancel goes to S or to H, and the timer is held by S or by
H (the other replica is stopped right after the cancels, so only one timer
is left; a Watch on the timer's replica marks the work started and sees
the end). The worker never completes.

The database runs on this machine, so its clock is the test's own clock;
the test checks that (and says by how much they differ). The error of one
expiry is (when the Watch saw it done) - (when the Cancel was acknowledged
+ grace); the deadline itself was written between the Cancel's sending and
its acknowledgement, so an expiry exactly on time shows as an error in
[-(the Cancel's latency), 0] plus the Watch's delivery time.

The server uses the database's clock for every time it stamps on a shared
store (the offset to it is measured at start and every 10 s); a replica
that used its own clock ended the other replicas' deadlines five minutes
early or late. tests/it/replicas/clock_skew.rs is the deterministic Rust
version of this scenario.
"""

from __future__ import annotations

import glob
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from conftest import PARENT, SMOKE, Row, psql, record, scaled
from rest import Watch

GRACE_S = 3.0
PER_PHASE = scaled(50, 10)
TOLERANCE_S = 1.0
SKEWS = ["+5m", "-5m"]
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))), None)
ARGS = ["--default-metadata-type", "longrun.v1.OperationMetadata"]


def _database_minus_local_s(url: str) -> float:
    before = time.time()
    database = float(psql(url, "SELECT extract(epoch FROM clock_timestamp())"))
    after = time.time()
    return database - (before + after) / 2


def _rfc3339(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("skew", SKEWS)
def test_grace_expiry_follows_the_database_clock(replicas, schema, skew):
    if LIBFAKETIME is None:
        pytest.skip("libfaketime not found (Debian package `faketime`): it skews one replica's clock")
    offset_s = _database_minus_local_s(schema.admin_url)
    assert abs(offset_s) < 0.5, f"the database's clock is {offset_s:+.3f} s from this machine's"

    def start(label: str):
        # The library itself rather than the `faketime` command, which forks
        # and waits: the replica must be the process that gets SIGTERM.
        env = {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": skew} if label == "S" else None
        return replicas.start(schema.url(label), f"replica-{label}-{skew}", env=env, args=ARGS)

    running = {"S": start("S"), "H": start("H")}

    # What the skewed replica stamps: createTime of an operation it makes.
    made_at = time.time()
    stamped = running["S"].replica.create(PARENT, f"stamp-{skew[0] == '+' and 'ahead' or 'behind'}")
    assert stamped.ok, stamped.body
    stamp_error_s = _rfc3339(stamped.body["metadata"]["createTime"]) - made_at

    errors: list[float] = []
    by_phase: list[str] = []
    problems: list[str] = []
    cancel_latency_ms: list[float] = []
    serial = 0
    for cancel_on, timer_on in [("S", "H"), ("H", "S"), ("S", "S"), ("H", "H")]:
        for label in ("S", "H"):
            if running[label].proc.poll() is not None:
                running[label] = start(label)
        timer = running[timer_on].replica
        canceller = running[cancel_on].replica
        other = "H" if timer_on == "S" else "S"
        names = []
        watches: list[Watch] = []
        for _ in range(PER_PHASE):
            serial += 1
            op_id = f"skew-{'ahead' if skew[0] == '+' else 'behind'}-{serial}"
            created = timer.create(PARENT, op_id, grace_s=GRACE_S)
            assert created.ok, created.body
            watch = Watch(timer.control_addr, created.body["name"])
            assert watch.wait_for(lambda e: True, 10) is not None, f"no first Watch event: {watch.ended}"
            names.append(created.body["name"])
            watches.append(watch)

        acked: dict[str, float] = {}
        lock = threading.Lock()

        def cancel(name: str) -> None:
            sent = time.monotonic()
            reply = canceller.cancel(name)
            done = time.monotonic()
            with lock:
                cancel_latency_ms.append((done - sent) * 1000)
                if reply.ok:
                    acked[name] = done
                else:
                    problems.append(f"cancel of {name} answered {reply.code}")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(cancel, names))
        replicas.stop(running[other])

        phase_errors = []
        for name, watch in zip(names, watches):
            if name not in acked:
                continue
            seen = watch.wait_for(lambda e: e.get("operation", {}).get("done"), GRACE_S + 15)
            watch.close()
            if seen is None:
                problems.append(f"{name}: never ended (watch: {watch.ended})")
                continue
            at, event = seen
            op = event["operation"]
            if op.get("error", {}).get("code") != 1:
                problems.append(f"{name}: ended with {op} instead of CANCELLED")
            error = at - (acked[name] + GRACE_S)
            phase_errors.append(error)
        errors += phase_errors
        if phase_errors:
            by_phase.append(f"cancel on {cancel_on}, timer on {timer_on}: "
                            f"{min(phase_errors) * 1000:+.0f}..{max(phase_errors) * 1000:+.0f} ms")

    late = [e for e in errors if abs(e) > TOLERANCE_S]
    ordered = sorted(errors)
    figures = "no expiry observed"
    if ordered:
        figures = (f"expiry error vs database clock min {ordered[0] * 1000:+.0f} ms, "
                   f"p50 {statistics.median(ordered) * 1000:+.0f} ms, max {ordered[-1] * 1000:+.0f} ms "
                   f"({'; '.join(by_phase)}); cancel call p50 "
                   f"{statistics.median(cancel_latency_ms):.0f} ms; skewed replica's createTime "
                   f"{stamp_error_s:+.3f} s off; database clock vs test clock {offset_s * 1000:+.1f} ms")
    record(Row(
        scenario=f"clock skew {skew} on one of two replicas",
        injected=f"replica S under libfaketime, FAKETIME={skew}; cancels with a {GRACE_S:g} s grace, worker never answers",
        times=f"{len(errors)} expiries in 4 phases (cancel on S or H, timer on S or H)",
        lost_errors=f"{len(late)} outside ±{TOLERANCE_S:g} s, {len(problems)} errors",
        figures=figures,
    ))
    assert not problems, problems[:5]
    assert len(errors) == 4 * PER_PHASE
    assert not late, f"{len(late)} expiries more than {TOLERANCE_S} s off: {sorted(late)[:5]}"
    assert abs(stamp_error_s) < TOLERANCE_S, (
        f"an operation made on the skewed replica says it was created {stamp_error_s:+.1f} s off")

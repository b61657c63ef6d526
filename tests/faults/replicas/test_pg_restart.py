"""Scenario 2: PostgreSQL stopped with `pg_ctl stop -m immediate` under
load, then started again.

The database is a private cluster made for this test (initdb into a
temporary directory, a free loopback port, trust auth, fsync on): stopping
the machine's shared PostgreSQL would break every other user of it. The
test skips, saying why, when no cluster can be made.

Two replicas, A and B. Writers create operations (alternating replicas) and
complete each on the other replica, without pause, before, during and after
the outage. A worker holds a Watch on A for one more operation. Measured:

- while the database is down: every call fails with UNAVAILABLE, and the
  slowest failure (target < 2 s; the server promises the acquire timeout,
  so the check is that bound, and the table says whether 2 s was met);
- after `pg_ctl start` returns (the database accepts connections): how long
  until each replica acknowledges a write again (target < 5 s);
- nothing acknowledged is lost: every acknowledged Create is there and every
  acknowledged Complete's response is the stored result, read on both
  replicas at the end (calls that failed may or may not have happened; the
  ones that did are counted, not judged);
- the LISTEN connection: how long until A's listener is back in
  pg_stat_activity, then a cancel sent to B must reach the Watch on A, and
  whether by notification (within a second) or by the 30 s backstop
  re-read, and how fast.
"""

from __future__ import annotations

import glob
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import PARENT, SMOKE, Row, migrate, psql, record, scaled
from longrun_process import free_ports
from rest import Replica, Reply, Watch, outcome

WRITERS = 8
BEFORE_S = scaled(5, 2)
DOWN_S = scaled(10, 3)
AFTER_S = scaled(5, 2)
FAIL_FAST_S = 2.0
RECOVER_WITHIN_S = 5.0
# The Watch's backstop re-read is every 30 s; a cancel must arrive within it.
CANCEL_HEARD_WITHIN_S = 35.0
CALLS_LIMIT = 200_000


class PrivateCluster:
    """A PostgreSQL cluster of this test's own, on a free loopback port."""

    def __init__(self):
        initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdbs:
            pytest.skip("no /usr/lib/postgresql/*/bin/initdb: cannot make a private cluster to stop")
        self.bindir = Path(initdbs[-1]).parent
        # initdb refuses to run as root: the cluster belongs to `postgres`.
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("running as root without runuser: cannot run initdb as postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="longrun_replicas_pg_"))
        self.data = self.root / "data"
        self.port = free_ports(1)[0]
        self.log = self.root / "postgres.log"
        try:
            if self.as_owner:
                shutil.chown(self.root, "postgres")
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-instructions")
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                           f"unix_socket_directories = '{self.root}'\nfsync = on\n"
                           "synchronous_commit = on\nmax_connections = 100\n")
            self.start()
        except (OSError, subprocess.SubprocessError, KeyError) as e:
            self.remove()
            pytest.skip(f"could not make a private PostgreSQL cluster: {e}")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_owner, str(self.bindir / tool), *args], check=True,
                       capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def url(self, application: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres?application_name={application}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop_immediate(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except (OSError, subprocess.SubprocessError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster():
    made = PrivateCluster()
    try:
        yield made
    finally:
        made.remove()


@dataclass
class Call:
    kind: str  # create | complete
    replica: str
    began: float
    ended: float
    code: str
    name: str
    value: str = ""


# While the database refuses connections, a call waits for a connection
# until --pg-acquire-timeout (the pool retries a refused connect until then).
# The default, 1 s, is what keeps failures under the 2 s target; the
# scenario runs with it, as shipped, and with 3 s, the old default, which
# cannot meet the target.
DEFAULT_ACQUIRE_S = 1.0
ACQUIRE_TIMEOUTS_S = [DEFAULT_ACQUIRE_S, 3.0]


@pytest.mark.parametrize("acquire_s", ACQUIRE_TIMEOUTS_S, ids=lambda s: f"acquire-timeout-{s:g}s")
def test_database_stopped_immediately_and_restarted_under_load(replicas, cluster, acquire_s):
    migrate(cluster.url("migrate"))
    args = [] if acquire_s == DEFAULT_ACQUIRE_S else ["--pg-acquire-timeout", f"{acquire_s:g}s"]
    a = replicas.start(cluster.url("replicas_a"), "replica-a", args=args).replica
    b = replicas.start(cluster.url("replicas_b"), "replica-b", args=args).replica
    pair = {"A": a, "B": b}

    watched = a.create(PARENT, "watched", grace_s=60)
    assert watched.ok, watched.body
    watched_name = watched.body["name"]
    watch = Watch(a.control_addr, watched_name)
    assert watch.wait_for(lambda e: True, 10) is not None, watch.ended

    calls: list[Call] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w: int) -> None:
        n = 0
        while not stop.is_set() and len(calls) < CALLS_LIMIT:
            n += 1
            first, second = ("A", "B") if n % 2 else ("B", "A")
            op_id = f"load-{w}-{n}"
            name = f"{PARENT}/operations/{op_id}"
            began = time.monotonic()
            created: Reply = pair[first].create(PARENT, op_id, request_id=f"req-{w}-{n}")
            got = [Call("create", first, began, time.monotonic(), created.code, name)]
            if created.ok:
                value = f"v-{w}-{n}"
                began = time.monotonic()
                done = pair[second].complete(name, value)
                got.append(Call("complete", second, began, time.monotonic(), done.code, name, value))
            else:
                # Do not spin: a refused call came back at once.
                time.sleep(0.01)
            with lock:
                calls.extend(got)

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(WRITERS)]
    for t in threads:
        t.start()
    time.sleep(BEFORE_S)  # load before the outage: time, not a condition

    stopping = time.monotonic()
    cluster.stop_immediate()
    down = time.monotonic()
    time.sleep(DOWN_S)  # the outage lasts this long
    restarting = time.monotonic()
    cluster.start()
    up = time.monotonic()

    # Each replica's first acknowledged write after the database is back.
    recovered: dict[str, float] = {}
    deadline = up + 30
    while len(recovered) < 2 and time.monotonic() < deadline:
        with lock:
            for c in calls:
                if c.code == "OK" and c.ended > up and c.replica not in recovered:
                    recovered[c.replica] = c.ended - up
        time.sleep(0.05)

    # A's listener back in pg_stat_activity (its application_name + "-listener").
    listener_back = None
    while time.monotonic() < up + 30:
        try:
            count = psql(cluster.url("probe"),
                         "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'replicas_a-listener'")
        except RuntimeError:
            count = "0"
        if count == "1":
            listener_back = time.monotonic() - up
            break
        time.sleep(0.1)

    time.sleep(AFTER_S)  # load after the recovery
    stop.set()
    for t in threads:
        t.join(timeout=30)

    # The Watch on A: still open across the outage, or ended by it (a
    # worker then opens it again, and so does this test before the cancel).
    watch_note = "the Watch stayed open across the outage"
    if watch.ended is not None:
        watch_note = f"the Watch ended during the outage ({watch.ended}); reopened"
        watch = Watch(a.control_addr, watched_name)
        assert watch.wait_for(lambda e: True, 10) is not None, watch.ended
    cancel_sent = time.monotonic()
    cancelled = b.cancel(watched_name)
    assert cancelled.ok, cancelled.body
    heard = watch.wait_for(lambda e: e.get("cancelRequested"), CANCEL_HEARD_WITHIN_S)
    # From the sending: the event may arrive before the answer to the Cancel.
    heard_after = None if heard is None else heard[0] - cancel_sent
    watch.close()

    # Read back everything acknowledged, on both replicas.
    created_ok = {c.name for c in calls if c.kind == "create" and c.code == "OK"}
    completed_ok = {c.name: c.value for c in calls if c.kind == "complete" and c.code == "OK"}
    lost: list[str] = []
    for name in sorted(created_ok):
        for label, replica in pair.items():
            got = replica.get(name)
            if not got.ok:
                lost.append(f"{name} on {label}: {got.code}")
            elif name in completed_ok and outcome(got.body) != f"response:{completed_ok[name]}":
                lost.append(f"{name} on {label}: {outcome(got.body)} instead of {completed_ok[name]}")

    # Every call begun while the database was down. One answered before the
    # restart began must have failed with UNAVAILABLE; one still waiting for
    # a connection when the database came back may have succeeded (on a
    # quiet machine `pg_ctl start` takes a fraction of a second, shorter than
    # the acquire timeout). How fast a call fails is read off the failures.
    during = [c for c in calls if down <= c.began < restarting]
    during_codes = sorted({c.code for c in during})
    answered_down = [c for c in during if c.ended < restarting]
    answered_down_codes = sorted({c.code for c in answered_down})
    failures = [c.ended - c.began for c in during if c.code == "UNAVAILABLE"]
    slowest_s = max(failures, default=float("nan"))
    p50_ms = statistics.median(failures) * 1000 if failures else float("nan")
    fail_fast = "no call failed" if not failures else ("met" if slowest_s < FAIL_FAST_S else "NOT met")
    # Errors while the database was up: before the stop, and after both
    # replicas had written again.
    settled = up + max(recovered.values(), default=30)
    errors_up = [c for c in calls if c.code != "OK" and (c.ended < stopping or c.began > settled)]
    via = "none"
    if heard_after is not None:
        via = "notification" if heard_after < 1.0 else "backstop re-read"
    acked = len(created_ok) + len(completed_ok)
    recovery = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(recovered.items())) or "never"
    record(Row(
        scenario="PostgreSQL stopped (immediate) and restarted under load, --pg-acquire-timeout "
                 + (f"{acquire_s:g} s" + (" (default)" if acquire_s == DEFAULT_ACQUIRE_S else "")),
        injected=f"`pg_ctl stop -m immediate` of a private cluster, {DOWN_S} s down, `pg_ctl start`; "
                 f"{WRITERS} writers on two replicas",
        times="1 outage",
        lost_errors=f"{len(lost)} acknowledged writes lost of {acked:,}; {len(errors_up)} errors while up",
        figures=(f"begun while down: {len(during):,} calls ({'/'.join(during_codes) or '-'}; "
                 f"{len(answered_down):,} answered before the restart, all {'/'.join(answered_down_codes) or '-'}), "
                 f"failures p50 {p50_ms:.0f} ms, slowest {slowest_s:.2f} s "
                 f"(target < {FAIL_FAST_S:g} s: {fail_fast}); writes again after {recovery} "
                 f"(from `pg_ctl start` returning, which took {up - restarting:.2f} s); listener back after "
                 f"{'never' if listener_back is None else f'{listener_back:.2f} s'}; cancel sent to B heard by "
                 f"the Watch on A after {'never' if heard_after is None else f'{heard_after * 1000:.0f} ms'} "
                 f"({via}); {watch_note}"),
    ))
    assert not lost, lost[:5]
    assert during, "no call was made while the database was down"
    assert set(during_codes) <= {"OK", "UNAVAILABLE"}, f"calls while down answered {during_codes}"
    assert answered_down_codes in ([], ["UNAVAILABLE"]), \
        f"calls answered while the database was down: {answered_down_codes}"
    if acquire_s < DOWN_S:
        # The outage outlasts the acquire timeout: some calls must have
        # given up while it lasted.
        assert answered_down, "no call failed while the database was down"
    # The documented bound: a refused connection fails within the acquire
    # timeout (plus scheduling slack on a loaded machine).
    assert not failures or slowest_s < acquire_s + 0.5, \
        f"a call took {slowest_s:.2f} s to fail while the database was down"
    assert set(recovered) == {"A", "B"}, f"writes did not succeed again on every replica: {recovered}"
    assert max(recovered.values()) < RECOVER_WITHIN_S, f"writes succeeded again only after {recovery}"
    assert not errors_up, [(c.kind, c.replica, c.code) for c in errors_up[:5]]
    assert listener_back is not None, "A's LISTEN connection never came back"
    assert heard_after is not None, "the Watch on A never heard the cancel sent to B"

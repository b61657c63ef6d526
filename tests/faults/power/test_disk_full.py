"""Disk full: the SQLite file's filesystem runs out of space while clients
write.

The test mounts a small tmpfs (root only: it skips, saying so, where mount
is refused, after trying a loop-mounted ext4 image instead), starts the
server with its database there, and runs writers (Create with a 4 KiB
metadata, so the database grows fast) and a reader (GetOperation) against
it. Then it fills the filesystem with a ballast file. While it is full:
every failed write must be UNAVAILABLE or RESOURCE_EXHAUSTED, in the
server's own words (no database text, issue 12), and every read must
succeed. Then the ballast goes: writes must work again within
RECOVER_WITHIN_S. At the end `PRAGMA integrity_check` must say ok and every
acknowledged Create must be in the database, also after a restart.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from calls import Client, metadata_any
from conftest import ROWS, Row, scaled, start_server

PARENT = "projects/power/locations/full"
FS_MIB = 24
WRITERS = scaled(4, 2)
BEFORE_S = scaled(2.0, 0.5)
# The longest the writes may go on succeeding after the disk is full
# (SQLite reuses the WAL's space after a checkpoint, so the first failure
# waits for the next allocation), and how long they are watched failing.
FAIL_WITHIN_S = 20.0
FULL_S = scaled(3.0, 1.0)
RECOVER_WITHIN_S = 10.0
AFTER_S = scaled(2.0, 0.5)
PADDING = "x" * 4096
ALLOWED = {"UNAVAILABLE", "RESOURCE_EXHAUSTED"}
# What a client must never read: the database's own words.
DATABASE_TEXT = re.compile(r"sqlite|database|\bsql\b|disk i/o|code: ?\d|os error|\bwal\b|journal", re.I)


@dataclass
class Attempt:
    op: str
    started: float
    ended: float
    ok: bool
    code: str
    message: str


@dataclass
class Log:
    writes: list[Attempt] = field(default_factory=list)
    reads: list[Attempt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, into: list[Attempt], attempt: Attempt) -> None:
        with self.lock:
            into.append(attempt)


def _mount(point: Path, image: Path) -> str:
    """A small filesystem at `point`: a tmpfs, else a loop-mounted ext4.
    Returns what it is; skips when neither can be mounted."""
    point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("disk full mounts a filesystem of its own: it needs root and mount(8)")
    tried = []
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_MIB}m", "tmpfs", str(point)],
                          capture_output=True, text=True)
    if done.returncode == 0:
        return f"tmpfs of {FS_MIB} MiB"
    tried.append(f"mount -t tmpfs: {done.stderr.strip()}")
    with open(image, "wb") as f:
        f.truncate(FS_MIB << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, text=True)
    if made.returncode == 0:
        done = subprocess.run(["mount", "-o", "loop", str(image), str(point)], capture_output=True, text=True)
        if done.returncode == 0:
            return f"loop-mounted ext4 of {FS_MIB} MiB"
        tried.append(f"mount -o loop: {done.stderr.strip()}")
    else:
        tried.append(f"mkfs.ext4: {made.stderr.strip()}")
    pytest.skip("disk full needs a filesystem of its own and none could be mounted (run as root): " + "; ".join(tried))


def _fill(ballast: Path) -> int:
    """Writes `ballast` until the filesystem refuses a single byte more;
    returns its size."""
    size = 0
    with open(ballast, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 12, 1):
            block = b"\0" * chunk
            while True:
                try:
                    written = f.write(block)
                except OSError as err:
                    if err.errno != errno.ENOSPC:
                        raise
                    break
                size += written or 0
    return size


def _writer(client: Client, log: Log, stop: threading.Event, tag: str) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        op = f"full{tag}x{n}"
        started = time.monotonic()
        outcome = client.create(PARENT, op, metadata_any(PADDING))
        log.add(log.writes, Attempt(op, started, time.monotonic(), outcome.ok, outcome.code, outcome.message))


def _reader(client: Client, name: str, log: Log, stop: threading.Event) -> None:
    while not stop.wait(0.05):
        started = time.monotonic()
        outcome = client.get(name)
        log.add(log.reads, Attempt(name, started, time.monotonic(), outcome.ok, outcome.code, outcome.message))


def _wait_for(predicate, within_s: float) -> float | None:
    """Seconds until predicate() held, or None after within_s."""
    start = time.monotonic()
    while time.monotonic() - start < within_s:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def test_disk_full_refuses_writes_cleanly_and_recovers(tmp_path):
    point = tmp_path / "fs"
    fs = _mount(point, tmp_path / "fs.img")
    server = None
    try:
        db = point / "longrun.db"
        server = start_server(tmp_path, f"sqlite://{db}")
        client = Client(server.public_addr, server.control_addr)
        probe = f"{PARENT}/operations/probe-{uuid.uuid4().hex[:8]}"
        assert client.create(PARENT, probe.rsplit("/", 1)[1]).ok

        log, stop = Log(), threading.Event()
        threads = [threading.Thread(target=_writer, args=(client, log, stop, str(i)), daemon=True)
                   for i in range(WRITERS)]
        threads.append(threading.Thread(target=_reader, args=(client, probe, log, stop), daemon=True))
        for t in threads:
            t.start()
        try:
            time.sleep(BEFORE_S)
            filled_at = time.monotonic()
            ballast_bytes = _fill(point / "ballast")

            def failed_since(t0):
                return lambda: any(not w.ok and w.started >= t0 for w in list(log.writes))

            first_failure_s = _wait_for(failed_since(filled_at), FAIL_WITHIN_S)
            assert first_failure_s is not None, (
                f"the disk was full ({fs}, ballast {ballast_bytes} bytes) but no write failed within {FAIL_WITHIN_S}s"
            )
            time.sleep(FULL_S)
            freed_at = time.monotonic()
            (point / "ballast").unlink()

            def succeeded_since(t0):
                return lambda: any(w.ok and w.started >= t0 for w in list(log.writes))

            recovered_s = _wait_for(succeeded_since(freed_at), RECOVER_WITHIN_S)
            time.sleep(AFTER_S)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        server.assert_alive()
        server.stop()
        server = None

        writes, reads = list(log.writes), list(log.reads)
        full = [w for w in writes if filled_at <= w.started and w.ended <= freed_at]
        failures = [w for w in writes if not w.ok]
        codes = sorted({w.code for w in failures})
        bad_codes = [w for w in failures if w.code not in ALLOWED]
        leaks = [w for w in failures if DATABASE_TEXT.search(w.message)]
        failed_reads = [r for r in reads if not r.ok]
        settled = freed_at + (recovered_s or 0) + 0.5
        late_failures = [w for w in writes if not w.ok and w.started >= settled]

        # The database after the storm: whole, and holding every ack.
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            stored = {row[0] for row in conn.execute("SELECT name FROM operations")}
        acked = [w for w in writes if w.ok]
        lost = [w.op for w in acked if f"{PARENT}/operations/{w.op}" not in stored]
        failed_but_stored = sum(1 for w in failures if f"{PARENT}/operations/{w.op}" in stored)

        # And as a client sees it, after a restart on the same file.
        server = start_server(tmp_path, f"sqlite://{db}")
        again = Client(server.public_addr, server.control_addr)
        sample = acked[:: max(1, len(acked) // 50)]
        missing_after_restart = [w.op for w in sample if not again.get(f"{PARENT}/operations/{w.op}").ok]

        example = failures[0] if failures else None
        ROWS.append(Row(
            "disk full (SQLite)",
            f"{fs} filled by a ballast file ({ballast_bytes >> 10} KiB) under {WRITERS} writers, then freed",
            f"{len(writes)} Creates ({len(acked)} acknowledged, {len(failures)} refused), {len(reads)} Gets",
            f"{len(lost)} of {len(acked)}",
            f"first refusal {first_failure_s:.2f} s after full; refusals {', '.join(codes) or 'none'}"
            + (f" (\"{example.message}\")" if example else "")
            + f"; reads failed {len(failed_reads)}/{len(reads)}; writes back "
            + (f"{recovered_s:.2f} s after the ballast went" if recovered_s is not None else "never")
            + f"; integrity_check {integrity}; {failed_but_stored} refused writes stored anyway",
        ))

        assert not bad_codes, f"writes failed with other codes: {[(w.code, w.message) for w in bad_codes[:5]]}"
        assert not leaks, f"a client saw the database's words: {leaks[0].message!r}"
        assert not failed_reads, f"reads failed while the disk was full: {[(r.code, r.message) for r in failed_reads[:5]]}"
        assert any(not w.ok for w in full), "no write failed while the disk was full"
        assert recovered_s is not None, f"writes did not work again within {RECOVER_WITHIN_S}s of freeing the disk"
        assert not late_failures, f"writes still failed after recovering: {[(w.code, w.message) for w in late_failures[:5]]}"
        assert integrity == "ok", integrity
        assert not lost, f"acknowledged Creates missing from the database: {lost[:10]}"
        assert not missing_after_restart, f"acknowledged Creates not found after a restart: {missing_after_restart[:10]}"
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["umount", "-l", str(point)], capture_output=True)

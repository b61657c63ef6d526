"""Power loss: no acknowledgement leaves the server before the commit that
covers it.

`kill -9` keeps the OS page cache, so it cannot catch a missing or
misplaced fsync. This scenario proves the order from a syscall trace
instead: `longrun serve` runs under strace, the five writes (Create,
Update, Complete, Cancel, Delete) go one at a time over gRPC and over REST,
each on its own connection, and stracecheck.py finds, for each, the
request's bytes arriving, the WAL write and the fsync that made it durable
(SQLite), or PostgreSQL's answer to the statement (its commit), and the
first byte of the response, in causal order. A GetOperation in each round
is the control: it commits nothing, and the checker must say so.
"""

from __future__ import annotations

import statistics
import subprocess
import urllib.parse
import uuid
from dataclasses import dataclass

import pytest

import stracecheck
from calls import Client, Outcome
from conftest import ROWS, Row, scaled, start_server

ROUNDS = scaled(5, 1)
PARENT = "projects/power/locations/here"


@dataclass
class Call:
    kind: str  # create, update, complete, cancel, delete, get
    protocol: str  # h2 (gRPC) or http1 (REST)
    marker: bytes  # the operation id: in the request, and in the row
    outcome: Outcome


def _round(client: Client, protocol: str) -> list[Call]:
    """One of each write, and a Get, on two fresh operations."""
    grpc = protocol == "h2"
    calls: list[Call] = []

    def do(kind: str, op: str, fn) -> None:
        outcome = fn()
        assert outcome.ok, f"{kind} {op} over {protocol}: {outcome}"
        calls.append(Call(kind, protocol, op.encode(), outcome))

    a, b = f"pw{uuid.uuid4().hex[:12]}", f"pw{uuid.uuid4().hex[:12]}"
    name_a, name_b = f"{PARENT}/operations/{a}", f"{PARENT}/operations/{b}"
    if grpc:
        do("create", a, lambda: client.create(PARENT, a))
        do("update", a, lambda: client.update(name_a, "half way"))
        do("complete", a, lambda: client.complete(name_a))
        do("get", a, lambda: client.get(name_a))
        do("delete", a, lambda: client.delete(name_a))
        do("create", b, lambda: client.create(PARENT, b))
        do("cancel", b, lambda: client.cancel(name_b))
    else:
        do("create", a, lambda: client.rest_create(PARENT, a))
        do("update", a, lambda: client.rest_update(name_a, "half way"))
        do("complete", a, lambda: client.rest_complete(name_a))
        do("get", a, lambda: client.rest_get(name_a))
        do("delete", a, lambda: client.rest_delete(name_a))
        do("create", b, lambda: client.rest_create(PARENT, b))
        do("cancel", b, lambda: client.rest_cancel(name_b))
    return calls


def _run(server) -> list[Call]:
    client = Client(server.public_addr, server.control_addr)
    calls: list[Call] = []
    for _ in range(ROUNDS):
        calls += _round(client, "h2")
        calls += _round(client, "http1")
    return calls


def _verdicts(events, calls: list[Call], ports: set[int], check) -> list[tuple[Call, stracecheck.Verdict]]:
    """Pairs each call with its connection (the n-th connection carrying a
    marker is the n-th call on that operation) and checks it."""
    by_marker: dict[bytes, list[stracecheck.Arrival]] = {}
    for marker in {c.marker for c in calls}:
        by_marker[marker] = stracecheck.arrivals(events, marker, ports)
    every = [a.event for found in by_marker.values() for a in found]
    seen: dict[bytes, int] = {}
    out = []
    for call in calls:
        index = seen.get(call.marker, 0)
        seen[call.marker] = index + 1
        found = by_marker[call.marker]
        assert index < len(found), (
            f"the trace has {len(found)} connections with {call.marker!r}, the test made more calls"
        )
        out.append((call, check(call, found[index], every)))
    return out


def _whole(events) -> None:
    """strace cut no buffer short (-s): every byte checked was seen."""
    cut = [f"{e.name}({e.what})" for e in events if e.truncated]
    assert not cut, f"strace shortened {len(cut)} buffers, e.g. {cut[:3]}"


def _judge(store: str, verdicts, fsyncs: int | None, *, control: bool) -> None:
    """Records the row and fails on any write answered before its commit.
    With `control`, the Gets must be refused (SQLite: a read writes no
    WAL); PostgreSQL's rule cannot tell a read's statement from a write's,
    so there the Gets only show up in the count."""
    writes = [(c, v) for c, v in verdicts if c.kind != "get"]
    controls = [(c, v) for c, v in verdicts if c.kind == "get"]
    failed = [f"{c.kind} over {c.protocol} ({c.marker.decode()}): {v.why}" for c, v in writes if not v.ok]
    gaps = [v.commit_to_answer_ms for _, v in writes if v.ok and v.commit_to_answer_ms is not None]
    kinds = sorted({c.kind for c, _ in writes})
    figures = [f"commit -> response p50 {statistics.median(gaps):.2f} ms (under strace)" if gaps else "no figures"]
    if fsyncs is not None:
        figures.append(f"{fsyncs} WAL fsyncs in the trace")
    if control:
        refused = sum(not v.ok for _, v in controls)
        figures.append(f"control (Get, no commit) refused by the checker {refused}/{len(controls)}")
    ROWS.append(Row(
        f"power loss, {store}: ack after commit (strace)",
        "a syscall trace of every write, checked call by call",
        f"{len(writes)} writes ({', '.join(kinds)}; gRPC and REST)",
        f"{len(failed)} acknowledged before their commit",
        "; ".join(figures),
    ))
    assert not failed, "\n".join(failed)
    # The checker must not pass what commits nothing.
    for call, verdict in controls if control else ():
        assert not verdict.ok, f"the checker passed a Get as if it had committed: {verdict.why}"


def test_sqlite_acknowledges_after_the_wal_fsync(tmp_path):
    db = tmp_path / "longrun.db"
    trace = tmp_path / "trace.txt"
    server = start_server(tmp_path, f"sqlite://{db}", trace=trace, strace_args=stracecheck.STRACE_ARGS)
    try:
        calls = _run(server)
    finally:
        server.stop()
    events = stracecheck.parse_file(trace)
    _whole(events)
    wal = str(db) + "-wal"

    def check(call: Call, arrival, every):
        return stracecheck.check_sqlite(
            events, call.kind, arrival, str(db), call.marker,
            marker_in_wal=call.kind != "delete", protocol=call.protocol, every_arrival=every,
        )

    verdicts = _verdicts(events, calls, server.ports, check)
    fsyncs = sum(1 for e in events if e.name in stracecheck.SYNCS and e.what == wal)
    _judge("SQLite", verdicts, fsyncs, control=True)


def test_postgres_acknowledges_after_the_commit(tmp_path, postgres_url):
    setting = subprocess.run(
        ["psql", postgres_url, "-Atc", "SHOW synchronous_commit"], capture_output=True, text=True, timeout=30, check=True,
    ).stdout.strip()
    if setting != "on":
        pytest.skip(f"PostgreSQL runs with synchronous_commit={setting}: its commit is not a flush to disk")
    trace = tmp_path / "trace.txt"
    pg_port = urllib.parse.urlsplit(postgres_url).port or 5432
    server = start_server(tmp_path, postgres_url, trace=trace, strace_args=stracecheck.STRACE_ARGS)
    try:
        calls = _run(server)
    finally:
        server.stop()
    events = stracecheck.parse_file(trace)
    _whole(events)

    def check(call: Call, arrival, every):
        return stracecheck.check_postgres(
            events, call.kind, arrival, call.marker, pg_port=pg_port, protocol=call.protocol, every_arrival=every,
        )

    verdicts = _verdicts(events, calls, server.ports, check)
    # The proof rests on PostgreSQL answering a commit only once it is
    # flushed: the server must not turn that off for its sessions.
    to_postgres = b"".join(e.data for e in events if e.name in stracecheck.WRITES and stracecheck.pg_port_of(e.what, pg_port))
    assert b"synchronous_commit" not in to_postgres, "longrun changed synchronous_commit on its connections"
    _judge("PostgreSQL", verdicts, None, control=False)

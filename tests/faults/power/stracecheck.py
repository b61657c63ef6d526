"""Reads a syscall trace of `longrun serve` and checks, call by call, that
no acknowledgement left the process before the commit that covers it.

The trace is strace's, made with `-f -ttt -yy -xx -s 1048576` (see
`STRACE_ARGS`): one line per syscall, each fd decorated with what it is (a
path, or `TCP:[local->peer]`), every string in hex, so the bytes that went
in or out of each fd can be put back together exactly. ptrace stops a
thread at each syscall's entry and exit, so the trace's order is causal: if
the writer thread's fsync returned before a handler thread wrote the
response, the fsync's exit is logged first.

For one call (found by a marker, its operation's id, in the bytes read from
a client's connection) the checks are:

- SQLite: between the request's arrival and the first byte of the response
  (the first HTTP/2 HEADERS frame, or the first write of an HTTP/1.1
  answer) the server wrote the WAL (with the marker in it, for writes that
  leave the row behind) and then an fsync or fdatasync of that WAL returned
  0; and no WAL write with the marker came after the response.
- PostgreSQL: every statement that carries the marker, sent on a
  connection to PostgreSQL after the request arrived (until the next call
  arrives), had its ReadyForQuery with status idle ('I': the implicit
  transaction of the statement, or an explicit one, is over, which with
  synchronous_commit=on means committed and flushed) back before the
  response left; and there was at least one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The syscalls that move bytes or make them durable, and the ones that
# name fds (the `-yy` decorations do the naming; these are for a reader).
TRACED = (
    "read,readv,recvfrom,recvmsg,write,writev,sendto,sendmsg,pwrite64,pwritev,pwritev2,"
    "fsync,fdatasync,openat,accept4,connect,close"
)
STRACE_ARGS = ["-f", "-ttt", "-yy", "-xx", "-s", "1048576", "-e", f"trace={TRACED}"]

READS = {"read", "readv", "recvfrom", "recvmsg"}
WRITES = {"write", "writev", "sendto", "sendmsg", "pwrite64", "pwritev", "pwritev2"}
SYNCS = {"fsync", "fdatasync"}

# PostgreSQL's ReadyForQuery with transaction status idle.
PG_READY_IDLE = b"Z\x00\x00\x00\x05I"
H2_HEADERS = 0x1

_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
_START = re.compile(r"^([a-z_0-9]+)\((.*)$")
_RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>(.*)$")
# A socket's holds "->"; a path's may hold one of its own, as in
# /dev/urandom<char 1:9>.
_FD = re.compile(r"^(\d+)<((?:TCP|TCPv6|UDP|UDPv6):\[[^\]]*\]|(?:[^<>]|<[^<>]*>)*)>")
_STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')
_RETURN = re.compile(r"\)\s+=\s+(-?\d+)")


@dataclass
class Event:
    """One syscall: where its entry and exit are in the trace (line
    numbers, so causal order) and what it moved."""

    entry: int
    exit: int
    pid: int
    time: float  # entry, seconds since the epoch
    name: str
    fd: int | None
    what: str  # the fd's decoration: a path, or TCP:[local->peer]
    data: bytes
    ret: int | None
    truncated: bool = False

    @property
    def is_socket(self) -> bool:
        return self.what.startswith("TCP:[")

    def peer_port(self) -> int | None:
        m = re.match(r"TCP:\[[^\]]*->[^\]]*:(\d+)\]", self.what)
        return int(m.group(1)) if m else None

    def local_port(self) -> int | None:
        m = re.match(r"TCP:\[[^\]]*:(\d+)->", self.what)
        return int(m.group(1)) if m else None


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text.replace("\\x", ""))


def _decorated(text: str) -> str:
    """A decoration as text: a socket stays as it is, a path is unhexed."""
    path, _, rest = text.partition("<")
    if text.startswith(("TCP:", "TCPv6:", "UDP:", "UNIX:", "NETLINK:")) or not re.fullmatch(r"(\\x[0-9a-f]{2})+", path):
        return text
    return _unhex(path).decode(errors="replace") + (f"<{rest}" if rest else "")


def _event(entry: int, exit_: int, pid: int, time: float, name: str, call: str) -> Event:
    """`call` is the syscall's text after `name(`: its arguments, `) = ret`."""
    fd = None
    what = ""
    m = _FD.match(call)
    if m:
        fd = int(m.group(1))
        what = _decorated(m.group(2))
        call = call[m.end():]
    returns = _RETURN.findall(call)
    ret = int(returns[-1]) if returns else None
    data = b""
    truncated = False
    if name in READS or name in WRITES:
        # The arguments before the return; every string in them is data
        # (writev's iovecs in order), cut to what the call really moved.
        args = call[: call.rfind(")")] if ")" in call else call
        chunks = []
        for s in _STRING.finditer(args):
            chunks.append(_unhex(s.group(1)))
            truncated = truncated or s.group(2) is not None
        data = b"".join(chunks)
        if ret is not None and ret >= 0:
            data = data[:ret]
    return Event(entry, exit_, pid, time, name, fd, what, data, ret, truncated)


def parse(text: str) -> list[Event]:
    """The syscalls of a trace, in the order they were entered."""
    events: list[Event] = []
    pending: dict[tuple[int, str], tuple[int, float, str]] = {}
    for number, line in enumerate(text.splitlines()):
        m = _LINE.match(line)
        if not m:
            continue
        pid, time, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        resumed = _RESUMED.match(rest)
        if resumed:
            name = resumed.group(1)
            start = pending.pop((pid, name), None)
            if start is not None:
                entry, entry_time, head = start
                events.append(_event(entry, number, pid, entry_time, name, head + resumed.group(2)))
            continue
        started = _START.match(rest)
        if not started:
            continue  # signals, exits
        name, call = started.group(1), started.group(2)
        if call.endswith("<unfinished ...>"):
            pending[(pid, name)] = (number, time, call[: -len("<unfinished ...>")])
        else:
            events.append(_event(number, number, pid, time, name, call))
    events.sort(key=lambda e: e.entry)
    return events


def parse_file(path: Path) -> list[Event]:
    return parse(path.read_text(errors="replace"))


@dataclass
class Arrival:
    """A request seen by the server: the read that brought its marker."""

    connection: str  # the socket's decoration, TCP:[server->client]
    event: Event


def arrivals(events: list[Event], marker: bytes, server_ports: set[int]) -> list[Arrival]:
    """Every connection to the server whose request bytes hold `marker`, in
    the order the marker arrived. One call per connection (the tests make a
    new connection per call)."""
    streams: dict[str, bytearray] = {}
    found: list[Arrival] = []
    for e in events:
        if e.name not in READS or not e.is_socket or e.local_port() not in server_ports:
            continue
        if e.what in {a.connection for a in found}:
            continue
        stream = streams.setdefault(e.what, bytearray())
        stream += e.data
        if marker in stream:
            found.append(Arrival(e.what, e))
    found.sort(key=lambda a: a.event.exit)
    return found


def response(events: list[Event], arrival: Arrival, protocol: str) -> Event | None:
    """The write that carried the first byte of the answer: the first
    HTTP/2 HEADERS frame on the connection ("h2"), or the first write after
    the request arrived ("http1")."""
    if protocol == "http1":
        for e in events:
            if e.name in WRITES and e.what == arrival.connection and e.entry > arrival.event.exit and e.data:
                return e
        return None
    # HTTP/2 from the server: frames from the first byte on (no preface).
    stream = bytearray()
    starts: list[tuple[int, Event]] = []
    for e in events:
        if e.name in WRITES and e.what == arrival.connection and e.data:
            starts.append((len(stream), e))
            stream += e.data
    offset = 0
    while offset + 9 <= len(stream):
        length = int.from_bytes(stream[offset : offset + 3], "big")
        kind = stream[offset + 3]
        if kind == H2_HEADERS:
            owner = [e for start, e in starts if start <= offset][-1]
            return owner
        offset += 9 + length
    return None


@dataclass
class Verdict:
    call: str
    ok: bool
    why: str
    arrival: Event | None = None
    durable: Event | None = None  # the fsync, or PostgreSQL's ReadyForQuery
    answer: Event | None = None

    @property
    def commit_to_answer_ms(self) -> float | None:
        """From the start of the commit's last step to the response."""
        if self.durable is None or self.answer is None:
            return None
        return (self.answer.time - self.durable.time) * 1000


def _window_end(arrival: Arrival, every_arrival: list[Event]) -> int:
    later = [a.exit for a in every_arrival if a.exit > arrival.event.exit]
    return min(later) if later else 1 << 62


def check_sqlite(
    events: list[Event],
    call: str,
    arrival: Arrival,
    db_path: str,
    marker: bytes,
    *,
    marker_in_wal: bool,
    protocol: str,
    every_arrival: list[Event],
) -> Verdict:
    """The SQLite rule (see the module docs) for one call."""
    wal = db_path + "-wal"
    answer = response(events, arrival, protocol)
    if answer is None:
        return Verdict(call, False, "no response found on the connection", arrival.event)
    start, end = arrival.event.exit, answer.entry
    wal_writes = [e for e in events if e.name in WRITES and e.what == wal and start < e.entry < end]
    if not wal_writes:
        return Verdict(call, False, "no WAL write between the request and the response", arrival.event, answer=answer)
    if marker_in_wal and not any(marker in e.data for e in wal_writes):
        return Verdict(
            call, False, "no WAL write with the operation between the request and the response",
            arrival.event, answer=answer,
        )
    last_write = max(e.exit for e in wal_writes)
    syncs = [
        e for e in events
        if e.name in SYNCS and e.what == wal and e.entry > last_write and e.exit < end and e.ret == 0
    ]
    if not syncs:
        late = [e for e in events if e.name in SYNCS and e.what == wal and e.entry > last_write]
        why = "the response left before the WAL was synced"
        if late:
            why += f" (the fsync came {(late[0].time - answer.time) * 1000:.3f} ms after the response)"
        return Verdict(call, False, why, arrival.event, answer=answer)
    stop = _window_end(arrival, every_arrival)
    after = [
        e for e in events
        if e.name in WRITES and e.what == wal and end < e.entry < stop and marker in e.data
    ]
    if marker_in_wal and after:
        return Verdict(call, False, "the operation was written to the WAL again after the response", arrival.event,
                       syncs[-1], answer)
    return Verdict(call, True, f"{len(wal_writes)} WAL write(s), then {syncs[-1].name}, then the response",
                   arrival.event, syncs[-1], answer)


def pg_port_of(what: str, pg_port: int) -> bool:
    return what.startswith("TCP:[") and what.endswith(f":{pg_port}]")


def check_postgres(
    events: list[Event],
    call: str,
    arrival: Arrival,
    marker: bytes,
    *,
    pg_port: int,
    protocol: str,
    every_arrival: list[Event],
) -> Verdict:
    """The PostgreSQL rule (see the module docs) for one call."""
    answer = response(events, arrival, protocol)
    if answer is None:
        return Verdict(call, False, "no response found on the connection", arrival.event)
    start, stop = arrival.event.exit, _window_end(arrival, every_arrival)
    statements = [
        e for e in events
        if e.name in WRITES and pg_port_of(e.what, pg_port) and start < e.entry < stop and marker in e.data
    ]
    if not statements:
        return Verdict(call, False, "no statement with the operation sent to PostgreSQL", arrival.event, answer=answer)
    last_ready = None
    for statement in statements:
        if statement.entry > answer.entry:
            return Verdict(call, False, "a statement with the operation was sent after the response",
                           arrival.event, answer=answer)
        ready = next(
            (
                e for e in events
                if e.name in READS and e.what == statement.what and e.entry > statement.exit
                and PG_READY_IDLE in e.data
            ),
            None,
        )
        if ready is None or ready.exit > answer.entry:
            return Verdict(call, False, "the response left before PostgreSQL's reply to the write",
                           arrival.event, answer=answer)
        last_ready = ready
    return Verdict(call, True, f"{len(statements)} statement(s), PostgreSQL idle after each, then the response",
                   arrival.event, last_ready, answer)

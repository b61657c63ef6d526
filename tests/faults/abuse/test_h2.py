"""HTTP/2 abuse on the public port (h2c), one attack per test, each
against a server of its own. Every loop is bounded by a count and by the
measuring window; every row lands in the table conftest prints.

What each test checks, through conftest.measure: the server closed the
attacking connection within 1 s (GOAWAY or EOF) or, where an attack is
answered rather than refused, the test names what bounds its cost; a
normal client's p99 during the attack is within max(2x, +20 ms) of its
baseline just before; the server's RSS grew by less than 64 MiB.
"""

from __future__ import annotations

import time

import pytest

from conftest import PROBE_OPERATION, SMOKE, Outcome, measure, scaled
from rawh2 import (
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    HEADERS,
    PING,
    RST_STREAM,
    SETTINGS_INITIAL_WINDOW_SIZE,
    Attacker,
    frame,
    get_operation_request,
    grpc_headers,
    grpc_message,
    rst_stream,
    settings,
)
from hpack import Encoder
from hpack.struct import HeaderTuple, NeverIndexedHeaderTuple

# Found by these tests, not fixed: h2 answers every PING and applies every
# SETTINGS, one at a time, with no rate limit (hyper has no knob for one), so
# one connection sending them as fast as it can keeps a server core busy and
# the normal client's p99 lands at about 2x + 0-6 ms on this 2-core machine
# (debug build, attacker on the other core). Marked rather than loosened: the
# figures still go in the table, and a pass shows as XPASS.
CONTROL_FRAME_FLOOD = pytest.mark.xfail(
    not SMOKE, strict=False,
    reason="no rate limit on PING/SETTINGS in h2: p99 at about the 2x bound",
)

# How long after its flood a connection is given to be closed before the
# attack counts it as left open.
GRACE_S = 1.0


def _closed(attackers: list[Attacker]) -> tuple[str, float | None]:
    """The server's answer over all the attacking connections: the reason
    of the first GOAWAY, and the longest any connection lasted (None if
    one was never closed)."""
    reasons = sorted({f"GOAWAY {a.seen.goaway_reason}" if a.seen.goaway_reason else "EOF"
                      for a in attackers if a.closed_at is not None})
    open_ = sum(1 for a in attackers if a.closed_at is None)
    times = [a.closed_after() for a in attackers]
    longest = None if open_ or not times else max(t for t in times if t is not None)
    if longest is None:
        return f"{open_} of {len(attackers)} connections left open", None
    return f"{' / '.join(reasons)} after at most {longest:.2f} s", longest


def _flood(server, deadline: float, make: "Callable[[Attacker, int], bytes]", per_conn: int,
           total: int, unit: str, *extra_settings) -> Outcome:
    """Opens connections one after another, each sending batches from
    `make(attacker, batch_index)` until the server closes it, `per_conn`
    batches, `total` batches in all, or the deadline."""
    attackers: list[Attacker] = []
    sent = 0
    while time.monotonic() < deadline and sent < total:
        attacker = Attacker(server.public_addr, *extra_settings)
        attackers.append(attacker)
        for i in range(per_conn):
            if time.monotonic() >= deadline or sent >= total or attacker.closed_at is not None:
                break
            if not attacker.send(make(attacker, i)):
                break
            sent += 1
        attacker.wait_closed(GRACE_S)
        attacker.close()
    answer, longest = _closed(attackers)
    blocked = sum(a.blocked_sends for a in attackers)
    count = f"{sent * unit[0]:,} {unit[1]} on {len(attackers)} connection(s)"
    if blocked:
        count += f" ({blocked} sends held up by TCP backpressure)"
    return Outcome(count, answer, longest)


def test_rapid_reset(server):
    """CVE-2023-44487: HEADERS then RST_STREAM at once, stream after stream."""
    block = grpc_headers(server.public_addr)
    batch = 100

    def make(_attacker, i: int) -> bytes:
        first = 1 + 2 * batch * i
        return b"".join(
            frame(HEADERS, END_HEADERS | END_STREAM, s, block) + rst_stream(s)
            for s in range(first, first + 2 * batch, 2)
        )

    measure(
        server, "rapid reset", "HEADERS (a whole GetOperation call) + RST_STREAM(CANCEL), repeated",
        lambda deadline: _flood(server, deadline, make, scaled(1000, 20), scaled(2000, 40),
                                (batch, "streams reset")),
    )


def test_continuation_flood(server):
    """HEADERS without END_HEADERS, then CONTINUATION frames that never end."""
    block = grpc_headers(server.public_addr)
    junk = Encoder().encode([NeverIndexedHeaderTuple("x-flood", "a" * 1000)])
    batch = 10

    def make(_attacker, i: int) -> bytes:
        head = frame(HEADERS, 0, 1, block) if i == 0 else b""
        return head + b"".join(frame(CONTINUATION, 0, 1, junk) for _ in range(batch))

    measure(
        server, "CONTINUATION flood", "HEADERS without END_HEADERS, then 1 kB CONTINUATION frames",
        lambda deadline: _flood(server, deadline, make, scaled(1000, 10), scaled(10_000, 40),
                                (batch, "CONTINUATION frames")),
    )


def test_hpack_bomb(server):
    """One 4 kB header into the dynamic table, then header blocks of nothing
    but 1-byte references to it: 16 kB that decode to 64 MB each."""
    authority = server.public_addr
    base = [(":method", "POST"), (":scheme", "http"),
            (":path", "/google.longrunning.Operations/GetOperation"),
            (":authority", authority), ("content-type", "application/grpc"), ("te", "trailers")]
    encoder = Encoder()
    seed = encoder.encode([NeverIndexedHeaderTuple(k, v) for k, v in base]
                          + [HeaderTuple("x-bomb", "b" * 4000)])
    # The entry is the newest in the table: index 62, an indexed field 0xbe.
    refs = encoder.encode([NeverIndexedHeaderTuple(k, v) for k, v in base]) + b"\xbe" * 16_000
    assert len(refs) <= 16_384

    def make(_attacker, i: int) -> bytes:
        stream = 1 + 2 * i
        if i == 0:
            return frame(HEADERS, END_HEADERS | END_STREAM, stream, seed)
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, refs)

    measure(
        server, "HPACK bomb", "a 4 kB header indexed once, then 16,000 references to it per block",
        lambda deadline: _flood(server, deadline, make, scaled(200, 5), scaled(2000, 20),
                                (1, "header blocks")),
    )


@CONTROL_FRAME_FLOOD
def test_ping_flood(server):
    """PING after PING, each owed an ACK."""
    batch = 1000
    pings = b"".join(frame(PING, 0, 0, i.to_bytes(8, "big")) for i in range(batch))

    def attack(deadline: float) -> Outcome:
        outcome = _flood(server, deadline, lambda _a, _i: pings, scaled(1000, 10),
                         scaled(1000, 10), (batch, "PINGs"))
        return _bounded(outcome, "h2 keeps one PING ACK owed at a time and stops reading "
                        "until it is written: TCP backpressure bounds the rest")

    measure(server, "PING flood", "PING frames, never reading the ACKs any faster", attack,
            close_within_s=None)


@CONTROL_FRAME_FLOOD
def test_settings_flood(server):
    """SETTINGS after SETTINGS, each owed an ACK and a flow-control recount."""
    batch = 1000
    frames = b"".join(settings((SETTINGS_INITIAL_WINDOW_SIZE, 65_535 - (i % 2)))
                      for i in range(batch))

    def attack(deadline: float) -> Outcome:
        outcome = _flood(server, deadline, lambda _a, _i: frames, scaled(1000, 10),
                         scaled(1000, 10), (batch, "SETTINGS"))
        return _bounded(outcome, "h2 applies one SETTINGS at a time and stops reading until "
                        "its ACK is written: TCP backpressure bounds the rest")

    measure(server, "SETTINGS flood", "SETTINGS frames (INITIAL_WINDOW_SIZE changed each time)",
            attack, close_within_s=None)


def test_zero_window(server):
    """INITIAL_WINDOW_SIZE 0 and no WINDOW_UPDATE ever: every response the
    server makes waits in its memory for a window that never opens."""
    block = grpc_headers(server.public_addr)
    body = grpc_message(get_operation_request(PROBE_OPERATION))
    # Up to the server's stream limit and no further: past it, h2 refuses
    # the streams, and that many refusals close the connection, so the
    # attack that holds the most stays at the limit.
    connections, streams = scaled(20, 2), scaled(200, 50)

    attackers: list[Attacker] = []
    began = []

    def prepare() -> None:
        began.append(time.monotonic())
        for _ in range(connections):
            attacker = Attacker(server.public_addr, (SETTINGS_INITIAL_WINDOW_SIZE, 0))
            attackers.append(attacker)
            attacker.send(b"".join(
                frame(HEADERS, END_HEADERS, s, block) + frame(DATA, END_STREAM, s, body)
                for s in range(1, 2 * streams, 2)
            ))
        # Until the server has answered them all, as far as a zero window
        # lets it: every stream's HEADERS (not flow-controlled) is in.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            a.seen.frames.get(HEADERS, 0) < streams for a in attackers
        ):
            time.sleep(0.05)

    def attack(deadline: float) -> Outcome:
        while time.monotonic() < deadline:
            time.sleep(0.05)
        refused = sum(a.seen.frames.get(RST_STREAM, 0) for a in attackers)
        answered = sum(a.seen.frames.get(HEADERS, 0) for a in attackers)
        answer, longest = _closed(attackers)
        for a in attackers:
            a.close()
        outcome = Outcome(f"{connections * streams:,} calls on {connections} connections, "
                          f"held {time.monotonic() - began[0]:.1f} s",
                          f"{answer}; {answered:,} answered as far as the window lets, "
                          f"{refused:,} refused", longest)
        return _bounded(outcome, "at most max-concurrent-streams (200) calls held per "
                        "connection, each one small response; p99 measured while they "
                        "are held, after they were opened")

    measure(server, "zero window", "SETTINGS_INITIAL_WINDOW_SIZE=0, then GetOperation calls",
            attack, close_within_s=None, prepare=prepare)


def _bounded(outcome: Outcome, bound: str) -> Outcome:
    outcome.bound = bound
    return outcome

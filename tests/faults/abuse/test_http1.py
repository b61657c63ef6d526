"""HTTP/1.1 abuse on the public port: slowloris, many connections that
each send a request head a line at a time and never finish it.

A slow client cannot be told from a slow network at the first byte, so
the server's answer is its header read timeout (10 s, hyper's
header_read_timeout in src/server/listener.rs): a connection that has not
sent a whole request head by then is closed. The test holds the
connections past that and checks every one was closed within it (plus
1 s of slack), while the normal client and the RSS bound hold.
"""

from __future__ import annotations

import selectors
import socket
import time

from conftest import Outcome, measure, scaled

HEADER_READ_TIMEOUT_S = 10.0
DRIP_EVERY_S = 1.0


def test_slowloris(server):
    host, port = server.public_addr.rsplit(":", 1)
    count = scaled(1000, 50)
    window = HEADER_READ_TIMEOUT_S + 2.5

    def attack(deadline: float) -> Outcome:
        selector = selectors.DefaultSelector()
        opened: dict[socket.socket, float] = {}
        closed: dict[socket.socket, float] = {}
        refused = 0
        slowest_connect = 0.0
        for _ in range(count):
            try:
                began = time.monotonic()
                s = socket.create_connection((host, int(port)), timeout=2)
                slowest_connect = max(slowest_connect, time.monotonic() - began)
                s.sendall(b"GET /v1/projects/a/locations/b/operations/c HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                refused += 1
                continue
            s.setblocking(False)
            opened[s] = time.monotonic()
            selector.register(s, selectors.EVENT_READ)
        drips = 0
        next_drip = time.monotonic() + DRIP_EVERY_S
        while time.monotonic() < deadline and len(closed) < len(opened):
            for key, _ in selector.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    closed[s] = time.monotonic()
                    selector.unregister(s)
                # Bytes instead of EOF would be an answer (a 408): the
                # close that follows is what is timed.
            if time.monotonic() >= next_drip:
                next_drip += DRIP_EVERY_S
                for s in opened:
                    if s not in closed:
                        try:
                            s.send(b"X-Drip: 1\r\n")
                            drips += 1
                        except OSError:
                            pass
        lasted = [closed[s] - opened[s] for s in closed]
        still_open = len(opened) - len(closed)
        for s in opened:
            s.close()
        selector.close()
        longest = max(lasted) if lasted and not still_open else None
        answer = (f"all closed after {min(lasted):.1f}-{max(lasted):.1f} s"
                  if lasted and not still_open else f"{still_open} of {len(opened)} left open")
        if refused:
            answer += f"; {refused} connects refused"
        # A connect dropped from a full accept queue waits out a 1 s SYN
        # retransmit: the server must take a burst of this size at once.
        assert slowest_connect < 0.5, f"a connect took {slowest_connect:.2f} s"
        return Outcome(f"{len(opened):,} connections, {drips:,} header lines dripped, "
                       f"slowest connect {slowest_connect * 1000:.0f} ms", answer,
                       longest, bound=f"header read timeout {HEADER_READ_TIMEOUT_S:.0f} s")

    measure(
        server, "slowloris", "HTTP/1.1 request heads, one header line a second, never ended",
        attack, window_s=window, close_within_s=HEADER_READ_TIMEOUT_S + 1.0,
    )

"""The REST/JSON calls the scenarios make, with the standard library only.

Each thread keeps one keep-alive HTTP/1.1 connection per address, so ten
thousand races cost calls, not TCP handshakes. Every call returns a `Reply`
(HTTP status, the JSON body, the gRPC status name, the ErrorInfo reason and
how long it took) instead of raising for an error answer: the scenarios
count error answers, they are not failures of the client. A transport error
(connection refused or reset, timeout) is a `Reply` too, with status 0.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass

CALL_TIMEOUT_S = 15.0


@dataclass
class Reply:
    status: int  # HTTP status; 0 when no answer arrived
    body: dict
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def code(self) -> str:
        """The gRPC status name: OK, UNAVAILABLE, ... or TRANSPORT."""
        if self.status == 0:
            return "TRANSPORT"
        if self.ok:
            return "OK"
        return str(self.body.get("error", {}).get("status", f"HTTP_{self.status}"))

    @property
    def reason(self) -> str:
        for detail in self.body.get("error", {}).get("details", []):
            if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
                return str(detail.get("reason", ""))
        return ""


_local = threading.local()


def _connection(addr: str) -> http.client.HTTPConnection:
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    conn = pool.get(addr)
    if conn is None:
        host, port = addr.rsplit(":", 1)
        conn = pool[addr] = http.client.HTTPConnection(host, int(port), timeout=CALL_TIMEOUT_S)
    return conn


def _drop(addr: str) -> None:
    conn = getattr(_local, "pool", {}).pop(addr, None)
    if conn is not None:
        conn.close()


def call(addr: str, method: str, path: str, body: dict | None = None) -> Reply:
    """One call on this thread's connection to `addr`. Never retried: a
    write whose answer was lost may have happened, and the scenarios count
    what was acknowledged. A failed connection is dropped; the next call
    opens a new one."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    started = time.monotonic()
    conn = _connection(addr)
    try:
        conn.request(method, f"/v1/{path}", body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as e:
        _drop(addr)
        return Reply(0, {"transport": repr(e)}, time.monotonic() - started)
    if response.getheader("connection", "").lower() == "close":
        _drop(addr)
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {"unparsed": raw[:200].decode(errors="replace")}
    return Reply(response.status, parsed, time.monotonic() - started)


class Replica:
    """One `longrun serve`: its public and control addresses."""

    def __init__(self, public_addr: str, control_addr: str):
        self.public_addr = public_addr
        self.control_addr = control_addr

    # The control API (the worker's side).
    def create(self, parent: str, operation_id: str, *, grace_s: float | None = None,
               request_id: str | None = None) -> Reply:
        body: dict = {"operationId": operation_id}
        if grace_s is not None:
            body["cancelGrace"] = f"{grace_s:g}s"
        if request_id is not None:
            body["requestId"] = request_id
        return call(self.control_addr, "POST", f"{parent}/operations", body)

    def update(self, name: str) -> Reply:
        return call(self.control_addr, "PATCH", name, {})

    def complete(self, name: str, value: str) -> Reply:
        return call(self.control_addr, "POST", f"{name}:complete", {
            "response": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": value},
        })

    # The public API (the client's side).
    def get(self, name: str) -> Reply:
        return call(self.public_addr, "GET", name)

    def cancel(self, name: str) -> Reply:
        return call(self.public_addr, "POST", f"{name}:cancel", {})


def outcome(op: dict) -> str | None:
    """What a done operation ended with, as one comparable string; None
    while it runs."""
    if not op.get("done"):
        return None
    if "response" in op:
        return "response:" + str(op["response"].get("value"))
    if "error" in op:
        return f"error:{op['error'].get('code')}:{op['error'].get('message', '')}"
    return "done-without-result"


class Watch:
    """A worker's WatchOperation over REST (a JSON array streamed element by
    element) on its own connection, read on its own thread: `events` grows
    as they arrive, each with the monotonic time it was read."""

    def __init__(self, control_addr: str, name: str):
        host, port = control_addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        self.conn.request("GET", f"/v1/{name}:watch")
        self.response = self.conn.getresponse()
        self.events: list[tuple[float, dict]] = []
        self.ended: str | None = None
        self.changed = threading.Condition()
        if self.response.status != 200:
            self.ended = f"HTTP {self.response.status}: {self.response.read()[:300]!r}"
            return
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        decoder = json.JSONDecoder()
        buffer = ""
        try:
            while True:
                chunk = self.response.read1(65536)
                if not chunk:
                    self._end("stream closed")
                    return
                buffer += chunk.decode()
                while True:
                    stripped = buffer.lstrip("[, \r\n\t")
                    if stripped.startswith("]"):
                        self._end("array closed")
                        return
                    try:
                        element, used = decoder.raw_decode(stripped)
                    except ValueError:
                        buffer = stripped
                        break
                    buffer = stripped[used:]
                    with self.changed:
                        self.events.append((time.monotonic(), element))
                        self.changed.notify_all()
        except (OSError, http.client.HTTPException, ValueError, AttributeError) as e:
            # ValueError / AttributeError: `close` shut the response under us.
            self._end(repr(e))

    def _end(self, why: str) -> None:
        with self.changed:
            self.ended = why
            self.changed.notify_all()

    def wait_for(self, predicate, timeout_s: float) -> tuple[float, dict] | None:
        """The first event (time, element) matching `predicate`, waiting up to
        `timeout_s`; None if none came (or the stream ended first)."""
        deadline = time.monotonic() + timeout_s
        seen = 0
        with self.changed:
            while True:
                for at, element in self.events[seen:]:
                    if predicate(element):
                        return at, element
                seen = len(self.events)
                left = deadline - time.monotonic()
                if self.ended is not None or left <= 0:
                    return None
                self.changed.wait(left)

    def close(self) -> None:
        try:
            self.conn.sock and self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()

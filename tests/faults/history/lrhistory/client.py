"""One REST call to longrun, sorted into the three outcomes a history
knows: ok (a 2xx answer), failed (a definite refusal: a 4xx answer, or a
connection the server never accepted, so nothing was sent), and unknown
(anything else: a 5xx such as UNAVAILABLE, a reset or closed connection, a
timeout). An unknown call may or may not have taken effect; the checker
lets it go either way.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import time
from dataclasses import dataclass
from typing import Any

OK = "ok"
FAILED = "failed"
UNKNOWN = "unknown"


@dataclass
class Answer:
    outcome: str  # OK, FAILED or UNKNOWN
    code: str | None  # google.rpc status name, or what went wrong on the wire
    body: Any  # the JSON answer (or error envelope), None when there was none
    http_status: int | None = None


def _error_status(body: Any, http_status: int) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        status = body["error"].get("status")
        if isinstance(status, str):
            return status
    return f"HTTP_{http_status}"


class Connection:
    """A kept-alive HTTP/1.1 connection to one address, opened again after
    any failure (a server restarted under it leaves it dead)."""

    def __init__(self, addr: str, timeout_s: float = 10.0):
        host, port = addr.rsplit(":", 1)
        self.host = host
        self.port = int(port)
        self.timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self) -> tuple[http.client.HTTPConnection, bool]:
        """The connection and whether it was opened just now."""
        if self._conn is not None:
            sock = self._conn.sock
            # An idle kept-alive connection that is readable has been closed
            # (or reset) by the server, e.g. one killed since: open a new one
            # rather than send into it and learn nothing of the outcome.
            if sock is None or select.select([sock], [], [], 0)[0]:
                self.close()
            else:
                return self._conn, False
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        conn.connect()
        self._conn = conn
        return conn, True

    def call(self, method: str, path: str, body: dict | None = None, *, timeout_s: float | None = None) -> Answer:
        try:
            conn, _fresh = self._connect()
        except (ConnectionRefusedError, ConnectionResetError) as e:
            # Nothing was sent: the call certainly did not happen.
            return Answer(FAILED, f"CONNECT:{type(e).__name__}", None)
        except OSError as e:
            return Answer(FAILED, f"CONNECT:{type(e).__name__}", None)
        try:
            if conn.sock is not None:
                conn.sock.settimeout(timeout_s if timeout_s is not None else self.timeout_s)
            data = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return Answer(UNKNOWN, f"WIRE:{type(e).__name__}", None)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = {"unparsed": raw[:200].decode(errors="replace")}
        status = response.status
        if response.getheader("connection", "").lower() == "close":
            self.close()
        if 200 <= status < 300:
            return Answer(OK, None, parsed, status)
        code = _error_status(parsed, status)
        if status >= 500:
            self.close()
            return Answer(UNKNOWN, code, parsed, status)
        return Answer(FAILED, code, parsed, status)


class WatchStream:
    """`GET {name}:watch` over REST: one JSON array whose elements arrive as
    the events happen. `next_event(timeout)` returns the next element, None
    when none came in time, and raises StopIteration at the end."""

    def __init__(self, addr: str, name: str, connect_timeout_s: float = 5.0):
        host, port = addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=connect_timeout_s)
        self.name = name
        self.response: http.client.HTTPResponse | None = None
        self.buffer = ""
        self.ended = False
        self.decoder = json.JSONDecoder()

    def open(self) -> Answer | None:
        """Sends the request; an Answer when it failed at once (an error
        answer or no connection), None when the stream is open."""
        try:
            self.conn.connect()
        except OSError as e:
            return Answer(FAILED, f"CONNECT:{type(e).__name__}", None)
        try:
            self.conn.request("GET", f"/v1/{self.name}:watch")
            self.response = self.conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            return Answer(UNKNOWN, f"WIRE:{type(e).__name__}", None)
        if self.response.status != 200:
            raw = self.response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            code = _error_status(parsed, self.response.status)
            outcome = UNKNOWN if self.response.status >= 500 else FAILED
            return Answer(outcome, code, parsed, self.response.status)
        return None

    def _take(self) -> Any:
        """One whole element from the buffer, or a sentinel when there is none yet."""
        text = self.buffer.lstrip(" \r\n\t,[")
        if text.startswith("]"):
            self.ended = True
            self.buffer = ""
            raise StopIteration
        if not text:
            self.buffer = ""
            return _MORE
        try:
            value, end = self.decoder.raw_decode(text)
        except ValueError:
            self.buffer = text
            return _MORE
        self.buffer = text[end:]
        return value

    def next_event(self, timeout_s: float) -> Any:
        if self.ended:
            raise StopIteration
        deadline = time.monotonic() + timeout_s
        while True:
            value = self._take()
            if value is not _MORE:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            assert self.response is not None
            try:
                if self.conn.sock is not None:
                    self.conn.sock.settimeout(left)
                chunk = self.response.read1(65536)
            except socket.timeout:
                return None
            except (OSError, http.client.HTTPException):
                self.ended = True
                raise ConnectionError("the watch stream broke") from None
            if not chunk:
                self.ended = True
                if self.buffer.strip():
                    raise ConnectionError("the watch stream ended inside an element")
                raise ConnectionError("the watch stream ended without its closing bracket")
            self.buffer += chunk.decode(errors="replace")

    def close(self) -> None:
        self.conn.close()


_MORE = object()

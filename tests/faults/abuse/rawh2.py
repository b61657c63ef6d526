"""A raw HTTP/2 attacker: writes frames as bytes, so it can send what no
well-behaved client would (a reset after every request, endless
CONTINUATION frames, a header block that decodes to megabytes), and a
reader thread that notes when the server sends GOAWAY or closes.

Frames are built by hand (hyperframe's layout, RFC 9113 section 4.1) and
header blocks by hpack, once per scenario: a flood is the same bytes sent
many times, which keeps Python fast enough to press a Rust server."""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from hpack import Encoder
from hpack.struct import NeverIndexedHeaderTuple

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8, 0x9,
)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4

SETTINGS_HEADER_TABLE_SIZE = 0x1
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4

CANCEL = 0x8
REASONS = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x6: "FRAME_SIZE_ERROR", 0x7: "REFUSED_STREAM", 0x8: "CANCEL", 0x9: "COMPRESSION_ERROR",
    0xB: "ENHANCE_YOUR_CALM",
}


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream & 0x7FFFFFFF
    ) + payload


def settings(*pairs: tuple[int, int]) -> bytes:
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def rst_stream(stream: int, code: int = CANCEL) -> bytes:
    return frame(RST_STREAM, 0, stream, struct.pack(">I", code))


def grpc_message(payload: bytes) -> bytes:
    """One gRPC length-prefixed message, uncompressed."""
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def get_operation_request(name: str) -> bytes:
    """google.longrunning.GetOperationRequest{name}, field 1, wire type 2."""
    raw = name.encode()
    return b"\x0a" + _varint(len(raw)) + raw


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def grpc_headers(authority: str, method: str = "GetOperation") -> bytes:
    """The header block of a gRPC call, with literals that never enter the
    dynamic table, so one encoding can open any number of streams."""
    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", f"/google.longrunning.Operations/{method}"),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    return Encoder().encode([NeverIndexedHeaderTuple(k, v) for k, v in headers])


@dataclass
class Seen:
    """What the server sent on one attacking connection, and when."""

    goaway_at: float | None = None
    goaway_reason: str = ""
    goaway_debug: bytes = b""
    eof_at: float | None = None
    frames: dict[int, int] = field(default_factory=dict)


class Attacker:
    """One h2c connection, prefaced and settled, with a reader thread."""

    def __init__(self, addr: str, *extra_settings: tuple[int, int], send_timeout: float = 1.0):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.sock.settimeout(send_timeout)
        self.seen = Seen()
        self.started = time.monotonic()
        self.blocked_sends = 0
        self._closing = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        # The server's SETTINGS is acknowledged up front: h2 does not check
        # the order, and then only the flood itself is left to send.
        self.sock.sendall(PREFACE + settings(*extra_settings) + frame(SETTINGS, ACK, 0))
        self._reader.start()

    @property
    def closed_at(self) -> float | None:
        times = [t for t in (self.seen.goaway_at, self.seen.eof_at) if t is not None]
        return min(times) if times else None

    def closed_after(self) -> float | None:
        at = self.closed_at
        return None if at is None else at - self.started

    def send(self, data: bytes) -> bool:
        """False once the server has closed the connection; a send that
        waits longer than the timeout (the server stopped reading: TCP
        backpressure) is counted and dropped, what is left of it unsent."""
        if self.closed_at is not None and self.seen.eof_at is not None:
            return False
        try:
            self.sock.sendall(data)
            return True
        except (TimeoutError, socket.timeout):
            self.blocked_sends += 1
            return self.closed_at is None
        except OSError:
            if self.seen.eof_at is None:
                self.seen.eof_at = time.monotonic()
            return False

    def wait_closed(self, within: float) -> float | None:
        deadline = time.monotonic() + within
        while self.closed_at is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.closed_after()

    def close(self) -> None:
        # An EOF after this is our own doing, not the server's answer.
        self._closing = True
        try:
            self.sock.close()
        except OSError:
            pass
        self._reader.join(timeout=2)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                chunk = b""
            if not chunk:
                if self.seen.eof_at is None and not self._closing:
                    self.seen.eof_at = time.monotonic()
                return
            buf += chunk
            while len(buf) >= 9:
                length = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + length:
                    break
                kind, payload = buf[3], buf[9 : 9 + length]
                buf = buf[9 + length :]
                self.seen.frames[kind] = self.seen.frames.get(kind, 0) + 1
                if kind == GOAWAY and self.seen.goaway_at is None:
                    self.seen.goaway_at = time.monotonic()
                    code = int.from_bytes(payload[4:8], "big")
                    self.seen.goaway_reason = REASONS.get(code, hex(code))
                    self.seen.goaway_debug = payload[8:]

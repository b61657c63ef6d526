"""The checker itself, on traces written by hand: it passes the right order
and fails every broken one (the response before the fsync, an fsync of
another file, a failed fsync, a commit without the operation, the answer
before PostgreSQL's reply)."""

from __future__ import annotations

import stracecheck

SERVER = 8081
CLIENT = 50000
PG = 5432
DB = "/data/longrun.db"
WAL = DB + "-wal"
MARKER = b"pwabc123"
CONN = f"TCP:[127.0.0.1:{SERVER}->127.0.0.1:{CLIENT}]"
PG_CONN = f"TCP:[127.0.0.1:41000->127.0.0.1:{PG}]"
HANDLER, WRITER = 100, 101


def _hex(data: bytes) -> str:
    return "".join(f"\\x{b:02x}" for b in data)


def _frame(kind: int, payload: bytes, stream: int = 1) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, 4]) + stream.to_bytes(4, "big") + payload


SETTINGS = _frame(0x4, b"", 0)
HEADERS = _frame(0x1, b"\x88", 1)
DATA = _frame(0x0, b"\x00\x00\x00\x00\x02" + b"\x08\x01", 1)
REQUEST = _frame(0x1, b"\x83", 1) + _frame(0x0, b"\x00\x00\x00\x00\x0a\x0a\x08" + MARKER, 1)
READY_IDLE = b"C\x00\x00\x00\x0dSELECT 1\x00" + stracecheck.PG_READY_IDLE
READY_IN_TRANSACTION = b"C\x00\x00\x00\x0bINSERT\x00Z\x00\x00\x00\x05T"


class Trace:
    """strace -f -ttt -yy -xx lines, one call at a time."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.clock = 1_700_000_000.0

    def _line(self, pid: int, text: str) -> None:
        self.clock += 0.0001
        self.lines.append(f"{pid} {self.clock:.6f} {text}")

    @staticmethod
    def _fd(fd: int, what: str) -> str:
        return f"{fd}<{what if what.startswith('TCP') else _hex(what.encode())}>"

    def recv(self, fd: int, what: str, data: bytes, pid: int = HANDLER) -> Trace:
        self._line(pid, f'recvfrom({self._fd(fd, what)}, "{_hex(data)}", 8192, 0, NULL, NULL) = {len(data)}')
        return self

    def send(self, fd: int, what: str, *chunks: bytes, pid: int = HANDLER) -> Trace:
        iov = ", ".join(f'{{iov_base="{_hex(c)}", iov_len={len(c)}}}' for c in chunks)
        total = sum(len(c) for c in chunks)
        self._line(pid, f"writev({self._fd(fd, what)}, [{iov}], {len(chunks)}) = {total}")
        return self

    def pwrite(self, path: str, data: bytes, pid: int = WRITER) -> Trace:
        self._line(pid, f'pwrite64({self._fd(12, path)}, "{_hex(data)}", {len(data)}, 4096) = {len(data)}')
        return self

    def fsync(self, path: str, ret: str = "0", pid: int = WRITER) -> Trace:
        self._line(pid, f"fsync({self._fd(12, path)}) = {ret}")
        return self

    def fsync_start(self, path: str, pid: int = WRITER) -> Trace:
        self._line(pid, f"fsync({self._fd(12, path)} <unfinished ...>")
        return self

    def fsync_end(self, pid: int = WRITER) -> Trace:
        self._line(pid, "<... fsync resumed>) = 0")
        return self

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _handshake() -> Trace:
    return Trace().recv(20, CONN, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").send(20, CONN, SETTINGS)


def _sqlite(trace: Trace, *, marker_in_wal: bool = True, protocol: str = "h2") -> stracecheck.Verdict:
    events = stracecheck.parse(trace.text())
    found = stracecheck.arrivals(events, MARKER, {SERVER})
    assert len(found) == 1
    return stracecheck.check_sqlite(
        events, "create", found[0], DB, MARKER, marker_in_wal=marker_in_wal, protocol=protocol,
        every_arrival=[a.event for a in found],
    )


def _postgres(trace: Trace) -> stracecheck.Verdict:
    events = stracecheck.parse(trace.text())
    found = stracecheck.arrivals(events, MARKER, {SERVER})
    assert len(found) == 1
    return stracecheck.check_postgres(
        events, "create", found[0], MARKER, pg_port=PG, protocol="h2", every_arrival=[a.event for a in found],
    )


def _page() -> bytes:
    return b"\x00" * 100 + MARKER + b"\x00" * 100


def test_the_right_order_passes():
    t = _handshake().recv(20, CONN, REQUEST).pwrite(WAL, _page()).fsync(WAL).send(20, CONN, HEADERS, DATA)
    verdict = _sqlite(t)
    assert verdict.ok, verdict.why
    assert verdict.durable is not None and verdict.durable.name == "fsync"


def test_a_response_before_the_fsync_fails():
    t = _handshake().recv(20, CONN, REQUEST).pwrite(WAL, _page()).send(20, CONN, HEADERS, DATA).fsync(WAL)
    verdict = _sqlite(t)
    assert not verdict.ok
    assert "before the WAL was synced" in verdict.why


def test_a_response_while_the_fsync_is_still_running_fails():
    t = (
        _handshake().recv(20, CONN, REQUEST).pwrite(WAL, _page())
        .fsync_start(WAL).send(20, CONN, HEADERS, DATA).fsync_end()
    )
    assert not _sqlite(t).ok


def test_settings_and_pings_before_the_fsync_are_not_the_answer():
    ping = _frame(0x6, b"\x00" * 8, 0)
    t = (
        _handshake().recv(20, CONN, REQUEST).send(20, CONN, ping, SETTINGS)
        .pwrite(WAL, _page()).fsync(WAL).send(20, CONN, HEADERS, DATA)
    )
    assert _sqlite(t).ok


def test_an_fsync_of_another_file_does_not_count():
    t = _handshake().recv(20, CONN, REQUEST).pwrite(WAL, _page()).fsync(DB).send(20, CONN, HEADERS, DATA)
    assert not _sqlite(t).ok


def test_a_failed_fsync_does_not_count():
    t = (
        _handshake().recv(20, CONN, REQUEST).pwrite(WAL, _page())
        .fsync(WAL, "-1 EIO (Input/output error)").send(20, CONN, HEADERS, DATA)
    )
    assert not _sqlite(t).ok


def test_an_fsync_before_the_request_does_not_count():
    t = _handshake().pwrite(WAL, _page()).fsync(WAL).recv(20, CONN, REQUEST).send(20, CONN, HEADERS, DATA)
    verdict = _sqlite(t)
    assert not verdict.ok
    assert "no WAL write" in verdict.why


def test_a_commit_without_the_operation_does_not_count():
    t = _handshake().recv(20, CONN, REQUEST).pwrite(WAL, b"\x00" * 64).fsync(WAL).send(20, CONN, HEADERS, DATA)
    assert not _sqlite(t).ok
    # ... unless the write leaves nothing of the row behind (Delete).
    assert _sqlite(t, marker_in_wal=False).ok


def test_the_operation_written_again_after_the_response_fails():
    t = (
        _handshake().recv(20, CONN, REQUEST).pwrite(WAL, _page()).fsync(WAL)
        .send(20, CONN, HEADERS, DATA).pwrite(WAL, _page())
    )
    assert not _sqlite(t).ok


def test_http1_answers_are_found_too():
    request = b"POST /v1/projects/p/locations/l/operations HTTP/1.1\r\n\r\n{\"operationId\":\"" + MARKER + b"\"}"
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    good = Trace().recv(20, CONN, request).pwrite(WAL, _page()).fsync(WAL).send(20, CONN, answer)
    bad = Trace().recv(20, CONN, request).pwrite(WAL, _page()).send(20, CONN, answer).fsync(WAL)
    assert _sqlite(good, protocol="http1").ok
    assert not _sqlite(bad, protocol="http1").ok


def test_a_request_split_across_reads_arrives_with_its_last_piece():
    half = len(REQUEST) - 4
    t = (
        _handshake().recv(20, CONN, REQUEST[:half]).recv(20, CONN, REQUEST[half:])
        .pwrite(WAL, _page()).fsync(WAL).send(20, CONN, HEADERS, DATA)
    )
    assert _sqlite(t).ok


def test_paths_and_sockets_are_decoded():
    t = _handshake().recv(20, CONN, REQUEST).pwrite(WAL, _page()).fsync(WAL)
    events = stracecheck.parse(t.text())
    assert {e.what for e in events} == {CONN, WAL}
    assert events[0].local_port() == SERVER and events[0].peer_port() == CLIENT


def test_postgres_reply_before_the_response_passes():
    statement = b"B\x00\x00\x00\x20" + MARKER + b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04"
    t = (
        _handshake().recv(20, CONN, REQUEST).send(30, PG_CONN, statement)
        .recv(30, PG_CONN, READY_IDLE).send(20, CONN, HEADERS, DATA)
    )
    assert _postgres(t).ok


def test_postgres_response_before_the_reply_fails():
    statement = b"B\x00\x00\x00\x20" + MARKER
    t = (
        _handshake().recv(20, CONN, REQUEST).send(30, PG_CONN, statement)
        .send(20, CONN, HEADERS, DATA).recv(30, PG_CONN, READY_IDLE)
    )
    assert not _postgres(t).ok


def test_postgres_still_in_a_transaction_is_not_a_commit():
    statement = b"B\x00\x00\x00\x20" + MARKER
    t = (
        _handshake().recv(20, CONN, REQUEST).send(30, PG_CONN, statement)
        .recv(30, PG_CONN, READY_IN_TRANSACTION).send(20, CONN, HEADERS, DATA)
    )
    assert not _postgres(t).ok


def test_postgres_statement_after_the_response_fails():
    statement = b"B\x00\x00\x00\x20" + MARKER
    t = (
        _handshake().recv(20, CONN, REQUEST).send(30, PG_CONN, b"B" + MARKER)
        .recv(30, PG_CONN, READY_IDLE).send(20, CONN, HEADERS, DATA)
        .send(30, PG_CONN, statement).recv(30, PG_CONN, READY_IDLE)
    )
    assert not _postgres(t).ok

"""Fixtures for the tests with Google's own Python clients.

Every test runs against three servers, one after the other, on free loopback
ports with in-memory databases; they differ only in what an operation
created without metadata carries (`--default-metadata-type`):

- no-metadata: nothing, the default, which every client reads;
- longrun-default: longrun's own `longrun.v1.OperationMetadata`, which a
  REST client must first learn (here through gRPC reflection);
- producer-default: the producer's own API type (Developer Connect's
  `OperationMetadata`, registered with `--descriptor-set`), which that
  API's generated client knows.

Operations are made through the control API's REST transcoding with plain
urllib, so the clients under test only ever do what a client of the public
API does.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(REPO / "tests" / "pysupport"))
from longrun_process import die_with_parent, free_ports, longrun_binary  # noqa: E402


# The server's cancel grace for operations created without one; tests that
# let the grace run out set a shorter one per operation.
CANCEL_GRACE = "5s"
WAIT_CAP = "5s"
READY_WITHIN_S = 30.0
STOP_WITHIN_S = 40.0


class ControlError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class Control:
    """The control API over REST (config/http_rules.yaml), with urllib."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def _call(self, method: str, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            f"{self.base_url}/v1/{path}",
            method=method,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise ControlError(e.code, e.read().decode(errors="replace")) from None

    def create(
        self,
        parent: str,
        operation_id: str | None = None,
        *,
        request_id: str | None = None,
        cancel_grace: str | None = None,
        metadata: dict | None = None,
    ) -> dict:
        """CreateOperation; returns the Operation as proto3 JSON. `metadata`
        is an Any in JSON form: {"@type": ..., fields}."""
        body = {}
        if metadata is not None:
            body["metadata"] = metadata
        if operation_id is not None:
            body["operationId"] = operation_id
        if request_id is not None:
            body["requestId"] = request_id
        if cancel_grace is not None:
            body["cancelGrace"] = cancel_grace
        return self._call("POST", f"{parent}/operations", body)

    def start(self, name: str, metadata: dict | None = None) -> dict:
        """UpdateOperation: marks the work as started, so a cancel waits for
        the worker, up to its grace. With `metadata` it replaces the stored
        metadata; without, it is a heartbeat that keeps it."""
        body = {} if metadata is None else {"metadata": metadata}
        return self._call("PATCH", name, body)

    def complete_error(self, name: str, code: int, message: str) -> dict:
        return self._call(
            "POST", f"{name}:complete", {"error": {"code": code, "message": message}}
        )

    def complete_empty(self, name: str) -> dict:
        return self._call(
            "POST",
            f"{name}:complete",
            {"response": {"@type": "type.googleapis.com/google.protobuf.Empty"}},
        )


LONGRUN_METADATA = "longrun.v1.OperationMetadata"

# The producer's own metadata type in some tests: Developer Connect's, which
# has the standard Cloud fields (create_time, end_time, target, verb,
# status_message, requested_cancellation, api_version), so longrun keeps them
# current, and which the generated client knows.
PRODUCER_METADATA = "google.cloud.developerconnect.v1.OperationMetadata"


@dataclass(frozen=True)
class Mode:
    """What an operation created without metadata carries on one server."""

    name: str
    default_type: str | None  # --default-metadata-type, a full message name

    @property
    def type_url(self) -> str | None:
        return None if self.default_type is None else f"type.googleapis.com/{self.default_type}"


NO_METADATA = Mode("no-metadata", None)
LONGRUN_DEFAULT = Mode("longrun-default", LONGRUN_METADATA)
PRODUCER_DEFAULT = Mode("producer-default", PRODUCER_METADATA)
MODES = [NO_METADATA, LONGRUN_DEFAULT, PRODUCER_DEFAULT]


@dataclass
class Server:
    public_addr: str  # host:port: gRPC, gRPC-Web and REST
    control_addr: str
    control: Control
    log_path: Path
    mode: Mode

    @property
    def public_url(self) -> str:
        return f"http://{self.public_addr}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def producer_metadata(**fields) -> dict:
    """Developer Connect's OperationMetadata as an Any in proto3 JSON."""
    return {"@type": f"type.googleapis.com/{PRODUCER_METADATA}", **fields}


def producer_descriptor_set() -> bytes:
    """A FileDescriptorSet with Developer Connect's OperationMetadata and its
    imports, taken from the installed client, for `--descriptor-set`: what a
    producer does to let longrun render and filter its metadata type."""
    from google.cloud import developerconnect_v1
    from google.protobuf import descriptor_pb2

    files = descriptor_pb2.FileDescriptorSet()
    seen = set()

    def add(file) -> None:
        if file.name in seen:
            return
        seen.add(file.name)
        for dependency in file.dependencies:
            add(dependency)
        file.CopyToProto(files.file.add())

    add(developerconnect_v1.OperationMetadata.pb().DESCRIPTOR.file)
    return files.SerializeToString()


def _wait_ready(proc: subprocess.Popen, server: Server) -> None:
    """Both ports accept connections and the public REST route answers."""
    deadline = time.monotonic() + READY_WITHIN_S
    probe = f"{server.public_url}/v1/projects/ready/locations/probe/operations/none"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"longrun exited with {proc.returncode} before it was ready:\n{server.log()}"
            )
        try:
            for addr in (server.public_addr, server.control_addr):
                host, port = addr.rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=1).close()
            try:
                urllib.request.urlopen(probe, timeout=2)
            except urllib.error.HTTPError as e:
                if e.code == 404:  # the operation does not exist: the server answers
                    return
                raise
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"longrun not ready within {READY_WITHIN_S}s:\n{server.log()}"
                ) from None
            time.sleep(0.05)


def stop_server(proc: subprocess.Popen, log) -> None:
    """SIGTERM, then a clean exit within STOP_WITHIN_S; `log()` gives the
    server's output for the failure message."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"longrun did not stop within {STOP_WITHIN_S}s of SIGTERM:\n{log()}")
    assert proc.returncode == 0, f"longrun exited with {proc.returncode} after SIGTERM:\n{log()}"


@pytest.fixture(scope="session", params=MODES, ids=lambda mode: mode.name)
def server(request, tmp_path_factory) -> Server:
    mode: Mode = request.param
    binary = longrun_binary()
    public_port, control_port = free_ports(2)
    public_addr = f"127.0.0.1:{public_port}"
    control_addr = f"127.0.0.1:{control_port}"
    workdir = tmp_path_factory.mktemp(f"longrun-{mode.name}")
    log_path = workdir / "server.log"
    descriptor_set = workdir / "developerconnect.pb"
    descriptor_set.write_bytes(producer_descriptor_set())
    # Every flag also reads LONGRUN_<NAME>: none of the caller's may change
    # the server under test (LONGRUN_BIN and LONGRUN_LOG aside).
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "info")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                str(binary),
                "serve",
                "--listen", public_addr,
                "--control-listen", control_addr,
                "--database", "sqlite::memory:",
                "--cancel-grace", CANCEL_GRACE,
                "--wait-cap", WAIT_CAP,
                "--descriptor-set", str(descriptor_set),
            ]
            + ([] if mode.default_type is None else ["--default-metadata-type", mode.default_type]),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    server = Server(
        public_addr=public_addr,
        control_addr=control_addr,
        control=Control(f"http://{control_addr}"),
        log_path=log_path,
        mode=mode,
    )
    try:
        _wait_ready(proc, server)
        yield server
    finally:
        stop_server(proc, server.log)


_locations = itertools.count(1)


@pytest.fixture
def parent(request) -> str:
    """A parent of its own for each test, so lists see only its operations."""
    return f"projects/pyclients/locations/loc-{next(_locations)}"


@pytest.fixture
def project() -> str:
    """A project of its own, for tests that list across its locations."""
    return f"projects/pyclients-{next(_locations)}"


@pytest.fixture
def control(server) -> Control:
    return server.control


@pytest.fixture(scope="session")
def longrun_types(server) -> None:
    """Teach this process longrun's own metadata type, read from the server
    through gRPC reflection.

    Over REST an Any is JSON, `{"@type": "type.googleapis.com/longrun.v1.
    OperationMetadata", ...}`, and protobuf's json_format (which every Google
    Python client uses) refuses an Any whose type is not in its default
    descriptor pool. A REST client of a server started with
    `--default-metadata-type longrun.v1.OperationMetadata` has to register
    the type, as here; gRPC clients see an opaque Any and need nothing.
    """
    learn_longrun_types(server.public_addr)


def learn_longrun_types(public_addr: str) -> None:
    import grpc
    from google.protobuf import descriptor_pool, timestamp_pb2  # noqa: F401 (the import loads the dependency)
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    pool = descriptor_pool.Default()
    try:
        pool.FindMessageTypeByName(LONGRUN_METADATA)
        return
    except KeyError:
        pass
    with grpc.insecure_channel(public_addr) as channel:
        file = ProtoReflectionDescriptorDatabase(channel).FindFileContainingSymbol(
            LONGRUN_METADATA
        )
    assert file.name == "longrun/v1/metadata.proto"
    pool.AddSerializedFile(file.SerializeToString())


@pytest.fixture
def default_types(server) -> Mode:
    """What a REST client needs to know to read an operation created without
    metadata on this server, loaded: nothing, longrun's type, or the
    producer's API (its generated client ships the type). Returns the mode."""
    if server.mode is LONGRUN_DEFAULT:
        learn_longrun_types(server.public_addr)
    elif server.mode is PRODUCER_DEFAULT:
        from google.cloud import developerconnect_v1  # noqa: F401 (registers the type)
    return server.mode


def assert_default_metadata(op, mode: Mode) -> None:
    """`op` (a protobuf Operation) was created without metadata: it carries
    what `mode` says, with the create_time the server stamps."""
    if mode.default_type is None:
        assert not op.HasField("metadata"), op.metadata
        return
    assert op.metadata.type_url == mode.type_url
    assert op.metadata.value, "the server stamped create_time into it"

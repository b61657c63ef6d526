"""The five writes (Create, Update, Complete on the control API; Cancel,
Delete on the public one) and a Get, over gRPC and over REST.

gRPC requests are encoded by hand (a few string and message fields), so
the suite needs no stubs generated from proto/; answers are decoded with
googleapis-common-protos' `Operation`. Every call opens its own connection
(a channel with a local subchannel pool, closed after the call; urllib
opens one per request), which is how the syscall trace tells calls apart.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import grpc
from google.longrunning import operations_pb2

CONTROL = "/longrun.v1.OperationsControl/"
PUBLIC = "/google.longrunning.Operations/"
METADATA_TYPE = "type.googleapis.com/longrun.v1.OperationMetadata"
EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
TIMEOUT_S = 10.0


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value: bytes | str) -> bytes:
    """A length-delimited field (string, bytes, message)."""
    if isinstance(value, str):
        value = value.encode()
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _any(type_url: str, value: bytes) -> bytes:
    return _field(1, type_url) + _field(2, value)


def metadata_any(status_message: str) -> bytes:
    """longrun.v1.OperationMetadata with only status_message (field 5)."""
    return _any(METADATA_TYPE, _field(5, status_message))


@dataclass
class Outcome:
    """What one call got back: ok, or a status code and message."""

    ok: bool
    code: str  # gRPC code name ("OK", "UNAVAILABLE", ...) or the HTTP status
    message: str
    done: bool | None = None

    def __str__(self) -> str:
        return "OK" if self.ok else f"{self.code}: {self.message}"


def _grpc(addr: str, method: str, body: bytes, *, returns_operation: bool = True) -> Outcome:
    with grpc.insecure_channel(addr, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
        call = channel.unary_unary(method)
        try:
            answer = call(body, timeout=TIMEOUT_S)
        except grpc.RpcError as err:
            return Outcome(False, err.code().name, err.details() or "")
    done = operations_pb2.Operation.FromString(answer).done if returns_operation else None
    return Outcome(True, "OK", "", done)


def _http(method: str, url: str, body: dict | None) -> Outcome:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, method=method, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            answer = json.loads(response.read() or b"{}")
            return Outcome(True, str(response.status), "", answer.get("done"))
    except urllib.error.HTTPError as err:
        text = err.read().decode(errors="replace")
        try:
            message = json.loads(text)["error"]["message"]
            status = json.loads(text)["error"]["status"]
        except (ValueError, KeyError, TypeError):
            message, status = text, ""
        return Outcome(False, f"{err.code} {status}".strip(), message)


class Client:
    """The calls of one server: `control` and `public` are host:port."""

    def __init__(self, public: str, control: str):
        self.public = public
        self.control = control

    # gRPC
    def create(self, parent: str, operation_id: str, metadata: bytes | None = None) -> Outcome:
        body = _field(1, parent) + _field(2, operation_id)
        if metadata is not None:
            body += _field(3, metadata)
        return _grpc(self.control, CONTROL + "CreateOperation", body)

    def update(self, name: str, status_message: str) -> Outcome:
        return _grpc(self.control, CONTROL + "UpdateOperation", _field(1, name) + _field(2, metadata_any(status_message)))

    def complete(self, name: str) -> Outcome:
        return _grpc(self.control, CONTROL + "CompleteOperation", _field(1, name) + _field(2, _any(EMPTY_TYPE, b"")))

    def cancel(self, name: str) -> Outcome:
        return _grpc(self.public, PUBLIC + "CancelOperation", _field(1, name), returns_operation=False)

    def delete(self, name: str) -> Outcome:
        return _grpc(self.public, PUBLIC + "DeleteOperation", _field(1, name), returns_operation=False)

    def get(self, name: str) -> Outcome:
        return _grpc(self.public, PUBLIC + "GetOperation", _field(1, name))

    # REST (HTTP/1.1)
    def rest_create(self, parent: str, operation_id: str) -> Outcome:
        return _http("POST", f"http://{self.control}/v1/{parent}/operations", {"operationId": operation_id})

    def rest_update(self, name: str, status_message: str) -> Outcome:
        metadata = {"@type": METADATA_TYPE, "statusMessage": status_message}
        return _http("PATCH", f"http://{self.control}/v1/{name}", {"metadata": metadata})

    def rest_complete(self, name: str) -> Outcome:
        return _http("POST", f"http://{self.control}/v1/{name}:complete", {"response": {"@type": EMPTY_TYPE}})

    def rest_cancel(self, name: str) -> Outcome:
        return _http("POST", f"http://{self.public}/v1/{name}:cancel", {})

    def rest_delete(self, name: str) -> Outcome:
        return _http("DELETE", f"http://{self.public}/v1/{name}", None)

    def rest_get(self, name: str) -> Outcome:
        return _http("GET", f"http://{self.public}/v1/{name}", None)

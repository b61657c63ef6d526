"""A REST client in a fresh interpreter, as a user runs one: it knows only
what its mode says it must learn, then reads operations that were created
without metadata with google-api-core's AbstractOperationsClient and with a
generated client's operations mixin (Developer Connect's): get, list, paging,
filter, and the result of a finished operation.

    python fresh_client.py PUBLIC_ADDR MODE PARENT RUNNING_NAME DONE_NAME

MODE is no-metadata (learn nothing), longrun-default (learn longrun's type
through reflection) or producer-default (the API's own client is imported,
which registers its types). Exits non-zero with the failing check on stderr.
"""

import sys

from google.api_core.client_options import ClientOptions
from google.api_core.operations_v1 import AbstractOperationsClient
from google.auth.credentials import AnonymousCredentials


def learn(mode: str, public_addr: str) -> None:
    if mode == "no-metadata":
        return
    if mode == "producer-default":
        from google.cloud import developerconnect_v1  # noqa: F401 (registers the type)
        return
    if mode != "longrun-default":
        raise SystemExit(f"unknown mode {mode!r}")
    import grpc
    from google.protobuf import descriptor_pool, timestamp_pb2  # noqa: F401
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    with grpc.insecure_channel(public_addr) as channel:
        file = ProtoReflectionDescriptorDatabase(channel).FindFileContainingSymbol(
            "longrun.v1.OperationMetadata"
        )
    descriptor_pool.Default().AddSerializedFile(file.SerializeToString())


def check(client, parent: str, running: str, done: str, who: str) -> None:
    op = client.get_operation(running)
    assert op.name == running and not op.done, f"{who}: get {op}"
    names = sorted(o.name for o in client.list_operations(parent, ""))
    assert names == sorted([running, done]), f"{who}: list {names}"
    paged = [o.name for o in client.list_operations(parent, "", page_size=1)]
    assert sorted(paged) == names, f"{who}: paging {paged}"
    filtered = [o.name for o in client.list_operations(parent, "done = true")]
    assert filtered == [done], f"{who}: filter {filtered}"
    finished = client.get_operation(done)
    assert finished.done and finished.WhichOneof("result") == "response", f"{who}: {finished}"
    assert finished.response.type_url == "type.googleapis.com/google.protobuf.Empty"


class MixinAsOperationsClient:
    """The generated client's mixin methods under the names `check` calls."""

    def __init__(self, client):
        self.client = client

    def get_operation(self, name):
        return self.client.get_operation({"name": name})

    def list_operations(self, parent, filter_, page_size=0):
        token, ops = "", []
        while True:
            page = self.client.list_operations(
                {"name": parent, "filter": filter_, "page_size": page_size, "page_token": token}
            )
            ops.extend(page.operations)
            token = page.next_page_token
            if not token:
                return ops


def main() -> None:
    public_addr, mode, parent, running, done = sys.argv[1:]
    learn(mode, public_addr)
    url = f"http://{public_addr}"
    api_core = AbstractOperationsClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options=ClientOptions(api_endpoint=url),
    )
    check(api_core, parent, running, done, "api-core AbstractOperationsClient")

    from google.cloud import developerconnect_v1

    generated = developerconnect_v1.DeveloperConnectClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options=ClientOptions(api_endpoint=url),
    )
    with generated:
        check(MixinAsOperationsClient(generated), parent, running, done, "generated mixin")
    print("ok")


if __name__ == "__main__":
    main()

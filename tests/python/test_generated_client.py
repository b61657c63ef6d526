"""A Google-generated client's operations mixin over REST: Developer Connect's,
whose service config binds the mixin to the same routes as longrun's defaults
(`/v1/{name=projects/*/locations/*/operations/*}` and friends).

The operations carry Developer Connect's own OperationMetadata, as a producer
of that API would send; longrun knows the type through `--descriptor-set`.
"""

import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import developerconnect_v1
from google.cloud.developerconnect_v1.services.developer_connect.transports.rest import (
    DeveloperConnectRestTransport,
)

from conftest import (
    PRODUCER_DEFAULT,
    PRODUCER_METADATA,
    assert_default_metadata,
    producer_metadata,
)


@pytest.fixture(params=["transport-url-scheme", "client-options-endpoint"])
def client(request, server):
    if request.param == "transport-url-scheme":
        transport = DeveloperConnectRestTransport(
            host=server.public_addr,
            url_scheme="http",
            credentials=AnonymousCredentials(),
        )
        client = developerconnect_v1.DeveloperConnectClient(transport=transport)
    else:
        client = developerconnect_v1.DeveloperConnectClient(
            credentials=AnonymousCredentials(),
            transport="rest",
            client_options=ClientOptions(api_endpoint=server.public_url),
        )
    with client:
        yield client


def metadata_of(op) -> developerconnect_v1.OperationMetadata:
    assert op.metadata.type_url == f"type.googleapis.com/{PRODUCER_METADATA}"
    return developerconnect_v1.OperationMetadata.deserialize(op.metadata.value)


def create(control, parent, operation_id, **kwargs):
    return control.create(
        parent,
        operation_id,
        metadata=producer_metadata(
            verb="create",
            target=f"{parent}/connections/{operation_id}",
            apiVersion="v1",
        ),
        **kwargs,
    )["name"]


def test_get_operation(client, control, parent):
    name = create(control, parent, "get-me")
    op = client.get_operation({"name": name})
    assert op.name == name
    assert not op.done
    metadata = metadata_of(op)
    assert metadata.verb == "create"
    assert metadata.target == f"{parent}/connections/get-me"
    assert metadata.api_version == "v1"
    assert metadata.create_time.year >= 2024, "longrun sets create_time"
    assert not metadata.requested_cancellation


def test_list_operations_pages_of_two(client, control, parent):
    names = [create(control, parent, f"page-{i}") for i in range(5)]
    sizes, listed, token = [], [], ""
    while True:
        page = client.list_operations({"name": parent, "page_size": 2, "page_token": token})
        sizes.append(len(page.operations))
        listed.extend(op.name for op in page.operations)
        token = page.next_page_token
        if not token:
            break
    assert sizes == [2, 2, 1]
    assert sorted(listed) == sorted(names), "every operation exactly once"
    assert listed == list(reversed(names)), "newest first"


def test_list_operations_filters_on_the_producers_metadata(client, control, parent):
    created = create(control, parent, "made")
    control.create(
        parent, "removed", metadata=producer_metadata(verb="delete", target="x")
    )
    page = client.list_operations({"name": parent, "filter": 'metadata.verb = "create"'})
    assert [op.name for op in page.operations] == [created]
    assert not page.next_page_token


def test_cancel_operation_tells_the_worker_and_waits_for_it(client, control, parent):
    name = create(control, parent, "cancel-me", cancel_grace="60s")
    control.start(name, producer_metadata(verb="create", statusMessage="building"))
    assert client.cancel_operation({"name": name}) is None

    # Started work is not cancelled at once: the worker has its grace, and
    # the metadata says a cancel was asked for.
    op = client.get_operation({"name": name})
    assert not op.done
    assert metadata_of(op).requested_cancellation
    assert metadata_of(op).status_message == "building"

    control.complete_error(name, 1, "stopped by the worker")
    op = client.get_operation({"name": name})
    assert op.done
    assert op.WhichOneof("result") == "error"
    assert (op.error.code, op.error.message) == (1, "stopped by the worker")
    metadata = metadata_of(op)
    assert metadata.requested_cancellation
    assert metadata.end_time.timestamp() >= metadata.create_time.timestamp()


def test_cancel_operation_of_unstarted_work_ends_it(client, control, parent):
    name = create(control, parent, "never-started")
    client.cancel_operation({"name": name})
    op = client.get_operation({"name": name})
    assert op.done and op.error.code == 1
    assert metadata_of(op).requested_cancellation


def test_delete_operation(client, control, parent):
    name = create(control, parent, "delete-me")
    assert client.delete_operation({"name": name}) is None
    with pytest.raises(exceptions.NotFound) as caught:
        client.get_operation({"name": name})
    assert caught.value.reason == "OPERATION_NOT_FOUND"
    with pytest.raises(exceptions.NotFound):
        client.delete_operation({"name": name})


def test_negative_page_size_is_bad_request(client, parent):
    with pytest.raises(exceptions.BadRequest) as caught:
        client.list_operations({"name": parent, "page_size": -1})
    assert caught.value.code == 400


def test_create_time_does_not_change_when_the_worker_updates(client, control, parent):
    name = create(control, parent, "stable-create-time")

    def create_time():
        # The raw Timestamp: proto-plus's datetime compares microseconds only.
        raw = developerconnect_v1.OperationMetadata.pb().FromString(
            client.get_operation({"name": name}).metadata.value
        )
        return raw.create_time

    before = create_time()
    control.start(name, producer_metadata(verb="create", statusMessage="building"))
    assert create_time() == before


def test_list_operations_across_locations_with_a_dash(client, control, project):
    a = create(control, f"{project}/locations/us-east1", "east")
    b = create(control, f"{project}/locations/europe-west1", "west")
    page = client.list_operations({"name": f"{project}/locations/-"})
    assert sorted(op.name for op in page.operations) == sorted([a, b])


def test_list_operations_accepts_return_partial_success(client, control, parent):
    name = create(control, parent, "partial")
    page = client.list_operations({"name": parent, "return_partial_success": True})
    assert [op.name for op in page.operations] == [name]
    assert list(page.unreachable) == []


def test_operation_created_without_metadata_reads_and_cancels(
    client, default_types, control, parent
):
    name = control.create(parent, "no-metadata")["name"]
    op = client.get_operation({"name": name})
    assert_default_metadata(op, default_types)
    client.cancel_operation({"name": name})
    op = client.get_operation({"name": name})
    assert op.done and op.error.code == 1
    assert_default_metadata(op, default_types)
    if default_types is PRODUCER_DEFAULT:
        # The API's own type, made and kept current by the server.
        metadata = metadata_of(op)
        assert metadata.requested_cancellation
        assert metadata.end_time.timestamp() >= metadata.create_time.timestamp() > 0

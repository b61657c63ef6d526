"""google-api-core's REST AbstractOperationsClient against longrun's REST routes.

Two ways a client is set up: with the origin API's http rules passed to the
transport (as a generated client does from its service config), and with
api-core's own defaults (`/v1/{name=**/operations/*}`, `/v1/{name=**}/operations`),
which produce the same URLs for longrun's names.
"""

import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.api_core.operations_v1 import AbstractOperationsClient
from google.api_core.operations_v1.transports.rest import OperationsRestTransport
from google.auth.credentials import AnonymousCredentials

from conftest import PRODUCER_METADATA, assert_default_metadata, producer_metadata

# The origin API's service-config rules, in api-core's http_options form.
ORIGIN_RULES = {
    "google.longrunning.Operations.GetOperation": [
        {"method": "get", "uri": "/v1/{name=projects/*/locations/*/operations/*}"},
    ],
    "google.longrunning.Operations.ListOperations": [
        {"method": "get", "uri": "/v1/{name=projects/*/locations/*}/operations"},
    ],
    "google.longrunning.Operations.CancelOperation": [
        {
            "method": "post",
            "uri": "/v1/{name=projects/*/locations/*/operations/*}:cancel",
            "body": "*",
        },
    ],
    "google.longrunning.Operations.DeleteOperation": [
        {"method": "delete", "uri": "/v1/{name=projects/*/locations/*/operations/*}"},
    ],
}


@pytest.fixture(params=["origin-rules", "api-core-defaults"])
def client(request, server, default_types):
    if request.param == "origin-rules":
        # The scheme goes in `host`: this transport does not pass its
        # `url_scheme` argument on to its base class, so `url_scheme="http"`
        # alone still calls https://.
        transport = OperationsRestTransport(
            host=server.public_url,
            credentials=AnonymousCredentials(),
            http_options=ORIGIN_RULES,
        )
        client = AbstractOperationsClient(transport=transport)
    else:
        # An endpoint with a scheme is kept as it is, so http:// works here.
        client = AbstractOperationsClient(
            credentials=AnonymousCredentials(),
            transport="rest",
            client_options=ClientOptions(api_endpoint=server.public_url),
        )
    yield client
    client.transport._session.close()  # the transport's close() is not implemented


def test_get_returns_the_operation(client, server, control, parent):
    created = control.create(parent, "get-me")
    op = client.get_operation(created["name"])
    assert op.name == f"{parent}/operations/get-me"
    assert not op.done
    # Any in JSON ("@type" plus fields) parsed back into the proto Any.
    assert_default_metadata(op, server.mode)


def test_get_shows_the_producers_own_metadata(client, control, parent):
    created = control.create(
        parent, "own-metadata", metadata=producer_metadata(verb="create", target="t")
    )
    op = client.get_operation(created["name"])
    assert op.metadata.type_url == f"type.googleapis.com/{PRODUCER_METADATA}"


def test_list_pages_of_two(client, control, parent):
    names = [control.create(parent, f"page-{i}")["name"] for i in range(5)]
    pager = client.list_operations(parent, "", page_size=2)
    sizes, listed = [], []
    for page in pager.pages:
        sizes.append(len(page.operations))
        listed.extend(op.name for op in page.operations)
    assert sizes == [2, 2, 1]
    assert sorted(listed) == sorted(names), "every operation exactly once"
    assert listed == list(reversed(names)), "newest first"


def test_list_with_a_filter(client, control, parent):
    control.create(parent, "running")
    done = control.create(parent, "finished")["name"]
    control.complete_empty(done)
    assert [op.name for op in client.list_operations(parent, "done = true")] == [done]


def test_cancel_ends_an_unstarted_operation_cancelled(client, control, parent):
    name = control.create(parent, "cancel-me")["name"]
    client.cancel_operation(name)
    op = client.get_operation(name)
    assert op.done
    assert op.WhichOneof("result") == "error"
    assert op.error.code == 1
    client.cancel_operation(name)  # again: OK, nothing changes
    assert client.get_operation(name) == op


def test_completed_response_comes_back(client, control, parent):
    name = control.create(parent, "complete-me")["name"]
    control.complete_empty(name)
    op = client.get_operation(name)
    assert op.done
    assert op.WhichOneof("result") == "response"
    assert op.response.type_url == "type.googleapis.com/google.protobuf.Empty"


def test_delete_forgets_the_operation(client, control, parent):
    name = control.create(parent, "delete-me")["name"]
    client.delete_operation(name)
    with pytest.raises(exceptions.NotFound):
        client.get_operation(name)
    with pytest.raises(exceptions.NotFound):
        client.delete_operation(name)


def test_not_found_carries_error_info(client, parent):
    name = f"{parent}/operations/never-made"
    with pytest.raises(exceptions.NotFound) as caught:
        client.get_operation(name)
    e = caught.value
    assert e.code == 404
    # api-core reads these from the JSON error envelope's details.
    assert e.reason == "OPERATION_NOT_FOUND"
    assert e.domain == "cloudaicompanion.googleapis.com"
    assert e.metadata == {"operation": name}


def test_a_fresh_client_reads_operations_made_without_metadata(server, control, parent):
    """The eight checks of a REST user who pip-installed a client and loaded
    only what the server's mode requires: nothing at all by default."""
    import subprocess
    import sys
    from pathlib import Path

    running = control.create(parent, "no-metadata")["name"]
    done = control.create(parent, "no-metadata-done")["name"]
    control.complete_empty(done)
    script = Path(__file__).with_name("fresh_client.py")
    run = subprocess.run(
        [sys.executable, str(script), server.public_addr, server.mode.name, parent, running, done],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr.strip()
    assert run.stdout.strip() == "ok"

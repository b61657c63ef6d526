"""The pictures in the README (docs/console-list.png, docs/console-detail.png)
come from this test: a project with operations in every state across two
locations, then one running operation followed live. Saved under
target/console-screenshots; copy them to docs/ when the console changes."""

from conftest import LONGRUN_METADATA, http, job_metadata, open_console

PROJECT = "projects/demo"
EAST = f"{PROJECT}/locations/us-east1"
WEST = f"{PROJECT}/locations/europe-west4"


def ours(**fields):
    return {"@type": LONGRUN_METADATA, **fields}


def make_demo(control) -> dict:
    ops = {}
    op = control.create(EAST, "build-1842", metadata=ours(verb="build", target="projects/demo/builds/1842"))
    control.complete_response(op["name"], {"@type": "type.googleapis.com/google.protobuf.Empty"})
    op = control.create(WEST, "deploy-api-v7", metadata=ours(
        verb="deploy", target="projects/demo/services/api", statusMessage="rolled back"))
    control.complete_error(op["name"], 9, "health check failed on 3 of 5 replicas")
    op = control.create(EAST, "reindex-products", metadata=ours(
        verb="reindex", target="projects/demo/indexes/products"))
    control.complete_error(op["name"], 1, "cancelled on request")
    op = control.create(EAST, "snapshot-db-7", metadata=ours(
        verb="snapshot", target="projects/demo/instances/db-7", statusMessage="snapshot stored"))
    control.complete_response(op["name"], {"@type": "type.googleapis.com/google.protobuf.Empty"})
    op = control.create(WEST, "export-audit-logs", cancel_grace="300s", metadata=job_metadata(
        verb="export", target="projects/demo/logs/audit"))
    control.update(op["name"], job_metadata(
        verb="export", target="projects/demo/logs/audit", statusMessage="Writing part 3 of 8",
        progressPercent=38))
    ops["export"] = op["name"]
    op = control.create(EAST, "import-customers", metadata=job_metadata(
        verb="import", target="projects/demo/datasets/customers"))
    control.update(op["name"], job_metadata(
        verb="import", target="projects/demo/datasets/customers",
        statusMessage="Copying table 12 of 40", progressPercent=30))
    ops["import"] = op["name"]
    return ops


def test_screenshots_of_the_list_and_a_running_operation(browser, server):
    ops = make_demo(server.control)
    status, _, body = http("POST", f"{server.url}/v1/{ops['export']}:cancel", {})
    assert status == 200, body
    browser.driver.set_window_size(1360, 1000)
    open_console(browser, server, f"?parent={PROJECT}/locations/-")
    browser.wait(lambda _: len(browser.find_all("table.operations tbody tr")) == 6)
    states = [b.text for b in browser.find_all("table.operations tbody .badge")]
    assert states == ["Running", "Running", "Succeeded", "Cancelled", "Failed", "Succeeded"]
    assert browser.find("tr[data-name$='export-audit-logs'] .pill-warn").text == "Cancel requested"
    browser.screenshot("list")

    browser.find("tr[data-name$='import-customers'] .op-link").click()
    browser.shown(".live", "Following live")
    assert browser.find(".summary progress").get_attribute("value") == "30"
    browser.screenshot("detail")

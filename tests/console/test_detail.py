"""One operation: its metadata, response and error as the server gives
them, local times with UTC on hover, progress, and the live follow."""

import json
import re
from datetime import datetime, timezone

from selenium.webdriver.common.by import By

from conftest import IMPORT_RESULT, LONGRUN_METADATA, http, job_metadata, open_console


def summary(browser) -> dict:
    return browser.driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('.summary-row')]"
        ".map(r => [r.querySelector('dt').textContent.trim(), r.querySelector('dd').textContent.trim()]))")


def json_block(browser, label: str) -> tuple[str, dict]:
    section = browser.shown(f"section.json[aria-label='{label}']")
    type_text = section.find_element(By.CSS_SELECTOR, ".json-head").text
    return type_text, json.loads(section.find_element(By.CSS_SELECTOR, "pre").text)


def badge(browser) -> str:
    return browser.find(".detail-head .badge").text


def test_running_operation_is_followed_live_until_the_worker_completes_it(browser, server, parent):
    control = server.control
    op = control.create(parent, "import-customers", metadata=job_metadata(
        verb="import", target="projects/demo/datasets/customers",
        statusMessage="Copying table 12 of 40", progressPercent=30))
    name = op["name"]
    open_console(browser, server, f"?operation={name}")
    browser.shown(".detail-head .badge", "Running")
    browser.shown(".live", "Following live")
    facts = summary(browser)
    assert facts["Verb"] == "import"
    assert facts["Target"] == "projects/demo/datasets/customers"
    assert facts["Status message"] == "Copying table 12 of 40"
    assert facts["Metadata type"] == "consoletest.v1.JobMetadata"
    assert browser.find(".summary progress").get_attribute("value") == "30"
    type_text, metadata = json_block(browser, "Metadata")
    assert "@type consoletest.v1.JobMetadata" in type_text
    status, _, body = http("GET", f"{server.url}/v1/{name}")
    assert metadata == json.loads(body)["metadata"]
    browser.screenshot("detail-running")

    # The worker finishes; the page, blocked in a :wait, shows it at once.
    control.complete_response(name, {"@type": IMPORT_RESULT, "rows": "48210", "tables": 40})
    browser.shown(".detail-head .badge", "Succeeded")
    browser.wait(lambda _: not browser.find_all(".live"), "still says it follows")
    type_text, response = json_block(browser, "Response")
    assert "@type consoletest.v1.ImportResult" in type_text
    assert response == {"@type": IMPORT_RESULT, "rows": "48210", "tables": 40}
    assert summary(browser)["Ended"] != "—"


def test_progress_and_status_update_while_the_page_is_open(browser, server, parent):
    control = server.control
    op = control.create(parent, "resize", metadata=job_metadata(progressPercent=10))
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Running")
    assert browser.find(".summary progress").get_attribute("value") == "10"
    control.update(op["name"], job_metadata(progressPercent=75, statusMessage="resizing disk 3 of 4"))
    # A :wait returns at its timeout with the latest state (5 s in the console).
    browser.wait(lambda _: browser.find(".summary progress").get_attribute("value") == "75",
                 "progress did not move", timeout=15)
    assert summary(browser)["Status message"] == "resizing disk 3 of 4"


def test_times_are_local_with_utc_on_hover(browser, server, parent):
    op = server.control.create(parent, "timed", metadata={"@type": LONGRUN_METADATA})
    created = op["metadata"]["createTime"]
    open_console(browser, server, f"?operation={op['name']}")
    stamp = browser.shown(".summary time")
    assert stamp.get_attribute("datetime")[:19] == created[:19]
    hover = stamp.get_attribute("title")
    assert hover.endswith(" UTC"), hover
    parsed = datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    assert hover.startswith(parsed.strftime("%Y-%m-%d %H:%M:%S")), (hover, created)
    assert re.search(r"\d{4}", stamp.text), stamp.text


def test_failed_operation_shows_code_name_message_and_error_info(browser, server, parent):
    control = server.control
    op = control.create(parent, "deploy-eu-7", metadata={
        "@type": LONGRUN_METADATA, "verb": "deploy", "target": "projects/demo/services/api"})
    control.complete_error(op["name"], 9, "health check failed on 3 of 5 replicas", details=[{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "HEALTH_CHECK_FAILED", "domain": "deploy.example.com",
        "metadata": {"replicas": "3"}}])
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Failed")
    error = browser.shown(".outcome-error")
    assert error.find_element(By.CSS_SELECTOR, ".code").text == "9 FAILED_PRECONDITION"
    assert error.find_element(By.CSS_SELECTOR, ".error-message").text == "health check failed on 3 of 5 replicas"
    facts = error.find_element(By.CSS_SELECTOR, ".facts").text
    for expected in ["HEALTH_CHECK_FAILED", "deploy.example.com", "replicas", "3"]:
        assert expected in facts, facts
    type_text, detail = json_block(browser, "Detail 1")
    assert "@type google.rpc.ErrorInfo" in type_text
    assert detail["reason"] == "HEALTH_CHECK_FAILED"
    browser.screenshot("detail-failed")


def test_cancelled_operation_shows_cancelled(browser, server, parent):
    op = server.control.create(parent, "stopped")
    server.control.complete_error(op["name"], 1, "stopped by the worker")
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Cancelled")
    assert browser.find(".outcome-error .code").text == "1 CANCELLED"


def test_operation_without_metadata_says_so(browser, server, parent):
    op = server.control.create(parent, "bare")
    assert "metadata" not in op
    server.control.complete_response(op["name"], {"@type": "type.googleapis.com/google.protobuf.Empty"})
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Succeeded")
    browser.shown("p.muted", "This operation has no metadata.")
    facts = summary(browser)
    assert facts["Metadata type"] == "no metadata"
    assert facts["Created"] == "—" and facts["Duration"] == "—"
    _, response = json_block(browser, "Response")
    assert response == {"@type": "type.googleapis.com/google.protobuf.Empty"}


def test_unknown_operation_shows_the_servers_not_found(browser, server, parent):
    open_console(browser, server, f"?operation={parent}/operations/never-made")
    banner = browser.shown(".banner-error")
    assert "404" in banner.text and "NOT_FOUND" in banner.text
    assert "OPERATION_NOT_FOUND" in banner.text


def test_script_in_metadata_is_shown_as_text_and_never_run(browser, server, parent):
    hostile = '<script>window.__owned = 1</script><img src=x onerror="window.__owned = 2">'
    op = server.control.create(parent, "hostile", metadata={
        "@type": LONGRUN_METADATA, "statusMessage": hostile, "verb": "<b>bold</b>",
        "target": '"><svg onload="window.__owned = 3">'})
    open_console(browser, server, f"?parent={parent}")
    row = browser.shown("table.operations tbody tr")
    assert row.find_element(By.CSS_SELECTOR, ".status-message").text == hostile
    assert row.find_element(By.CSS_SELECTOR, ".verb").text == "<b>bold</b>"
    assert not row.find_elements(By.CSS_SELECTOR, "script, img, b, svg")
    row.find_element(By.CSS_SELECTOR, ".op-link").click()
    browser.shown(".detail-head .badge", "Running")
    assert summary(browser)["Status message"] == hostile
    assert hostile.replace('"', '\\"') in browser.find("section.json pre").text
    assert not browser.find_all("main script, main img, main b, main svg")
    assert browser.driver.execute_script("return window.__owned") is None


def test_narrow_screen_detail_fits_without_sideways_scrolling(browser, server, parent):
    op = server.control.create(parent, "a-rather-long-operation-id-for-a-phone", metadata=job_metadata(
        verb="import", target="projects/demo/datasets/customers-with-a-long-name/tables/orders",
        statusMessage="Copying table 12 of 40", progressPercent=30))
    browser.driver.set_window_size(390, 844)
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Running")
    width = browser.driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    browser.screenshot("detail-narrow")

"""Cancel and Delete: each asks first, says what it does, and shows the
server's answer; a worker watching the operation sees the cancel request."""

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import LONGRUN_METADATA, http, open_console


def button(browser, label: str):
    return browser.driver.find_element(By.XPATH, f"//button[normalize-space(.)='{label}']")


def test_cancel_asks_then_reaches_the_watching_worker(browser, server, parent):
    control = server.control
    op = control.create(parent, "nightly-export", cancel_grace="60s", metadata={
        "@type": LONGRUN_METADATA, "verb": "export", "statusMessage": "exporting"})
    name = op["name"]
    watch = control.watch(name)  # the worker; watching marks the work started
    try:
        watch.wait_for(lambda e: e.get("operation", {}).get("name") == name)
        open_console(browser, server, f"?operation={name}")
        browser.shown(".detail-head .badge", "Running")

        button(browser, "Cancel operation").click()
        dialog = browser.shown("dialog[open]")
        browser.screenshot("cancel-dialog")
        assert "best effort" in dialog.text
        assert "cancel grace" in dialog.text
        assert "finishes first keeps its result" in dialog.text
        # Focus starts on the harmless choice.
        assert browser.driver.switch_to.active_element.text == "Keep it"
        dialog.find_element(By.CSS_SELECTOR, "[data-confirm]").click()

        answer = browser.shown(".action-answer", "Cancellation requested")
        assert "200" in answer.text and "{}" in answer.text
        event = watch.wait_for(lambda e: e.get("cancelRequested") is True)
        assert not event["operation"].get("done")
        # Still running: the worker has its grace. The page says a cancel is pending.
        browser.shown(".detail-head .pill-warn", "Cancel requested")
        assert browser.find(".detail-head .badge").text == "Running"

        control.complete_error(name, 1, "stopped on request")
        browser.shown(".detail-head .badge", "Cancelled")
        assert browser.find(".outcome-error .code").text == "1 CANCELLED"
        assert not button(browser, "Cancel operation").is_enabled()
    finally:
        watch.close()


def test_escape_closes_the_confirmation_and_nothing_is_sent(browser, server, parent):
    op = server.control.create(parent, "kept")
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Running")
    button(browser, "Cancel operation").click()
    browser.shown("dialog[open]")
    browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    browser.wait(lambda _: not browser.find_all("dialog[open]"), "dialog still open")
    assert not browser.find_all(".action-answer")
    status, _, body = http("GET", f"{server.url}/v1/{op['name']}")
    assert not json.loads(body).get("done")
    assert not json.loads(body).get("metadata", {}).get("requestedCancellation")


def test_cancel_of_an_unstarted_operation_ends_it_at_once(browser, server, parent):
    op = server.control.create(parent, "never-started")
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Running")
    button(browser, "Cancel operation").click()
    browser.shown("dialog[open] [data-confirm]").click()
    browser.shown(".action-answer", "200")
    browser.shown(".detail-head .badge", "Cancelled")


def test_delete_explains_it_does_not_stop_the_work_and_removes_the_record(browser, server, parent):
    control = server.control
    op = control.create(parent, "old-import")
    other = control.create(parent, "kept-import")
    name = op["name"]
    open_console(browser, server, f"?parent={parent}")
    browser.shown(f"tr[data-name='{name}'] .op-link").click()
    browser.shown(".detail-head .badge", "Running")

    button(browser, "Delete").click()
    dialog = browser.shown("dialog[open]")
    browser.screenshot("delete-dialog")
    assert "does not stop the work" in dialog.text
    assert "still running" in dialog.text
    dialog.find_element(By.CSS_SELECTOR, "[data-confirm]").click()

    answer = browser.shown(".action-answer", "Deleted")
    assert "200" in answer.text
    status, _, _ = http("GET", f"{server.url}/v1/{name}")
    assert status == 404
    # The worker's report is refused: the work was not stopped, only forgotten.
    status, _, _ = http("POST", f"http://{server.control_addr}/v1/{name}:complete",
                        {"error": {"code": 1, "message": "late"}})
    assert status == 404

    browser.find(".crumbs a").click()
    browser.wait(lambda _: browser.driver.execute_script(
        "return [...document.querySelectorAll('table.operations tbody tr')].map(r => r.dataset.name)")
        == [other["name"]], "the deleted operation is still listed")


def test_a_refused_cancel_shows_the_servers_answer(browser, server, parent):
    op = server.control.create(parent, "finished-meanwhile")
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".detail-head .badge", "Running")
    button(browser, "Delete").click()
    browser.shown("dialog[open]")
    # Someone else deletes it first; this delete gets the server's NOT_FOUND.
    status, _, _ = http("DELETE", f"{server.url}/v1/{op['name']}")
    assert status == 200
    browser.find("dialog[open] [data-confirm]").click()
    banner = browser.shown(".action-answer .banner-error")
    assert "404" in banner.text and "NOT_FOUND" in banner.text
    assert "Delete" in banner.text

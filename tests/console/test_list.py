"""The list: rows, state badges, metadata fields, quick filters, the
server's own filter error at its position, paging, narrow screens."""

import json
import re
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import LONGRUN_METADATA, http, job_metadata, open_console


def rows(browser):
    return browser.find_all("table.operations tbody tr")


def row_names(browser):
    # Read in one go in the page: rows re-render while a test looks.
    return browser.driver.execute_script(
        "return [...document.querySelectorAll('table.operations tbody tr')].map(r => r.dataset.name)")


def wait_rows(browser, names):
    browser.wait(lambda _: row_names(browser) == names, f"rows are not {names}")


def make_states(control, parent):
    """One operation in each state, oldest first."""
    done = control.create(parent, "build-1842", metadata={
        "@type": LONGRUN_METADATA, "verb": "build", "target": "projects/demo/builds/1842"})
    control.complete_response(done["name"], {"@type": "type.googleapis.com/google.protobuf.Empty"})
    failed = control.create(parent, "deploy-eu-7", metadata={
        "@type": LONGRUN_METADATA, "verb": "deploy", "target": "projects/demo/services/api",
        "statusMessage": "rolling out"})
    control.complete_error(failed["name"], 9, "health check failed on 3 of 5 replicas")
    cancelled = control.create(parent, "reindex-products")
    control.complete_error(cancelled["name"], 1, "stopped by the worker")
    running = control.create(parent, "import-customers", metadata=job_metadata(
        verb="import", target="projects/demo/datasets/customers",
        statusMessage="Copying table 12 of 40", progressPercent=30))
    return [running["name"], cancelled["name"], failed["name"], done["name"]]


def test_list_shows_each_operation_with_state_and_metadata_newest_first(browser, server, parent):
    names = make_states(server.control, parent)
    open_console(browser, server, f"?parent={parent}")
    wait_rows(browser, names)
    states = [row.find_element(By.CSS_SELECTOR, ".badge").text for row in rows(browser)]
    assert states == ["Running", "Cancelled", "Failed", "Succeeded"]
    running = rows(browser)[0]
    assert running.find_element(By.CSS_SELECTOR, ".op-link").text == "import-customers"
    assert running.find_element(By.CSS_SELECTOR, ".verb").text == "import"
    assert running.find_element(By.CSS_SELECTOR, ".target").text == "projects/demo/datasets/customers"
    assert running.find_element(By.CSS_SELECTOR, ".status-message").text == "Copying table 12 of 40"
    progress = running.find_element(By.CSS_SELECTOR, "progress")
    assert progress.get_attribute("value") == "30"
    age = running.find_element(By.CSS_SELECTOR, "td[data-label=Age]").text
    assert age.endswith("ago"), age
    failed = rows(browser)[2]
    assert failed.find_element(By.CSS_SELECTOR, ".status-message").text == "rolling out"
    took = failed.find_element(By.CSS_SELECTOR, "td[data-label=Duration]").text
    assert re.fullmatch(r"\d+ ms|\d+(\.\d)? s", took), took
    browser.screenshot("list-states")


def test_requested_cancellation_is_marked_in_the_row(browser, server, parent):
    op = server.control.create(parent, "long-export", cancel_grace="60s")
    server.control.update(op["name"], {"@type": LONGRUN_METADATA, "statusMessage": "exporting"})
    status, _, body = http("POST", f"{server.url}/v1/{op['name']}:cancel", {})
    assert status == 200, body
    open_console(browser, server, f"?parent={parent}")
    wait_rows(browser, [op["name"]])
    row = rows(browser)[0]
    assert row.find_element(By.CSS_SELECTOR, ".badge").text == "Running"
    assert row.find_element(By.CSS_SELECTOR, ".pill-warn").text == "Cancel requested"


def test_quick_filters_show_only_their_state(browser, server, parent):
    running, cancelled, failed, done = make_states(server.control, parent)
    open_console(browser, server, f"?parent={parent}")
    wait_rows(browser, [running, cancelled, failed, done])
    for label, expected in [("Running", [running]), ("Done", [cancelled, failed, done]),
                            ("Failed", [failed]), ("Cancelled", [cancelled]),
                            ("All", [running, cancelled, failed, done])]:
        chip = browser.driver.find_element(By.XPATH, f"//div[@class='quick']/button[.='{label}']")
        chip.click()
        wait_rows(browser, expected)
        assert chip.get_attribute("aria-pressed") == "true"
        # The quick filter is plain AIP-160, in the box for the user to read and edit.
        assert browser.find("#filter").get_attribute("value") == chip.get_attribute("title").replace("no filter", "")


def test_typed_filter_runs_on_the_server(browser, server, parent):
    running, cancelled, failed, done = make_states(server.control, parent)
    open_console(browser, server, f"?parent={parent}")
    wait_rows(browser, [running, cancelled, failed, done])
    box = browser.find("#filter")
    box.send_keys('metadata.verb = "deploy" OR name:"build"', Keys.ENTER)
    wait_rows(browser, [failed, done])
    assert "filter=" in browser.driver.current_url


def test_bad_filter_shows_the_servers_error_at_its_position(browser, server, parent):
    server.control.create(parent, "any")
    bad = "done = false AND colour = 'red'"
    # What the server says, straight from the REST API.
    query = urllib.parse.urlencode({"filter": bad})
    status, _, body = http("GET", f"{server.url}/v1/{parent}/operations?{query}")
    assert status == 400
    error = json.loads(body)["error"]
    info = next(d for d in error["details"] if d["@type"].endswith("google.rpc.ErrorInfo"))
    assert info["reason"] == "INVALID_FILTER"
    position = int(info["metadata"]["position"])
    assert bad[position:].startswith("colour"), (position, bad)

    open_console(browser, server, f"?parent={parent}")
    browser.shown("table.operations")
    box = browser.find("#filter")
    box.send_keys(bad, Keys.ENTER)
    banner = browser.shown(".filter-error")
    browser.screenshot("filter-error")
    assert error["message"] in banner.text
    assert banner.find_element(By.CSS_SELECTOR, "mark").text == bad[position]
    caret = banner.find_element(By.CSS_SELECTOR, ".caret span").text
    assert caret.startswith(" " * position + "^"), repr(caret)
    assert f"position {position}" in caret
    # The cursor is put where the server points.
    assert browser.driver.switch_to.active_element == box
    assert box.get_property("selectionStart") == position
    assert box.get_attribute("aria-invalid") == "true"
    assert box.get_attribute("aria-describedby") == banner.get_attribute("id")
    assert not rows(browser)


def test_pages_follow_the_page_token_forward_and_back(browser, server, parent):
    names = [server.control.create(parent, f"batch-{i:02d}")["name"] for i in range(7)]
    newest_first = list(reversed(names))
    open_console(browser, server, f"?parent={parent}&pageSize=3")
    wait_rows(browser, newest_first[0:3])
    next_button = lambda: browser.driver.find_element(By.XPATH, "//nav[@class='pager']/button[.='Next']")
    previous_button = lambda: browser.driver.find_element(By.XPATH, "//nav[@class='pager']/button[.='Previous']")
    assert not previous_button().is_enabled()
    next_button().click()
    wait_rows(browser, newest_first[3:6])
    assert "pageToken=" in browser.driver.current_url
    assert browser.find(".page-number").text == "Page 2 · 3 operations, newest first"
    next_button().click()
    wait_rows(browser, newest_first[6:7])
    assert not next_button().is_enabled()
    previous_button().click()
    wait_rows(browser, newest_first[3:6])
    # The browser's Back button walks the pages too.
    browser.driver.back()
    wait_rows(browser, newest_first[6:7])
    browser.driver.back()
    browser.driver.back()
    wait_rows(browser, newest_first[0:3])


def test_all_locations_lists_across_them(browser, server):
    project = "projects/console-everywhere"
    east = server.control.create(f"{project}/locations/us-east1", "east")["name"]
    west = server.control.create(f"{project}/locations/europe-west4", "west")["name"]
    open_console(browser, server, f"?parent={project}/locations/-")
    wait_rows(browser, [west, east])
    assert [row.find_element(By.CSS_SELECTOR, ".sub").text for row in rows(browser)] == [
        "europe-west4", "us-east1"]


def test_picker_lists_the_project_and_location_typed(browser, server, parent):
    op = server.control.create(parent, "picked")["name"]
    open_console(browser, server)
    browser.shown(".empty", "Enter a project")
    project, location = parent.split("/")[1], parent.split("/")[3]
    browser.find("#project").send_keys(project)
    browser.find("#location").clear()
    browser.find("#location").send_keys(location, Keys.ENTER)
    wait_rows(browser, [op])
    assert f"parent={urllib.parse.quote(parent, safe='')}" in browser.driver.current_url


def test_keyboard_opens_an_operation_from_the_list(browser, server, parent):
    op = server.control.create(parent, "by-keyboard")["name"]
    open_console(browser, server, f"?parent={parent}")
    wait_rows(browser, [op])
    link = browser.find(".op-link")
    link.send_keys(Keys.ENTER)
    browser.shown("h1.op-id", "by-keyboard")
    # Back returns to the list.
    browser.driver.back()
    wait_rows(browser, [op])


def test_narrow_screen_stacks_rows_without_sideways_scrolling(browser, server, parent):
    make_states(server.control, parent)
    browser.driver.set_window_size(390, 844)
    open_console(browser, server, f"?parent={parent}")
    browser.wait(lambda _: len(rows(browser)) == 4)
    assert not browser.find("table.operations thead").is_displayed()
    width = browser.driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    label = browser.driver.execute_script(
        "return getComputedStyle(document.querySelector('td[data-label=State]'), '::before').content")
    assert label == '"State"'
    browser.screenshot("list-narrow")

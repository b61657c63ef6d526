"""With authentication on: the console asks for a token, says plainly when
the server refuses a call (401, 403), and works with a valid token, which
stays in this tab's sessionStorage only."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import open_console


def rows(browser):
    return browser.driver.execute_script(
        "return [...document.querySelectorAll('table.operations tbody tr')].map(r => r.dataset.name)")


def test_no_token_shows_the_401_and_a_valid_token_lists(browser, secured):
    server = secured.server
    parent = "projects/secure/locations/us-east1"
    op = server.control.create(parent, "guarded")
    open_console(browser, server, f"?parent={parent}")
    banner = browser.shown(".banner-error", "401")
    browser.screenshot("token-needed")
    assert "needs a bearer token" in banner.text
    assert "CREDENTIALS_MISSING" in banner.text
    assert not rows(browser)

    token = secured.mint("alice", "alice@example.com")
    field = banner.find_element(By.CSS_SELECTOR, "input[type=password]")
    # The field is labelled, for screen readers and for clicking.
    label = browser.find(f"label[for='{field.get_attribute('id')}']")
    assert label.text == "Bearer token"
    field.send_keys(token, Keys.ENTER)
    browser.wait(lambda _: rows(browser) == [op["name"]], "the list did not load with the token")
    assert browser.find(".topbar").text.endswith("Token set")
    stored = browser.driver.execute_script(
        "return [sessionStorage.getItem('longrun.console.token'), JSON.stringify(localStorage)]")
    assert stored[0] == token
    assert token not in stored[1]

    # The token works for the detail page and its live follow too.
    browser.find(".op-link").click()
    browser.shown(".detail-head .badge", "Running")
    browser.shown(".live", "Following live")


def test_a_bad_token_is_refused_with_the_servers_reason(browser, secured):
    server = secured.server
    open_console(browser, server, "?parent=projects/secure/locations/-")
    browser.shown(".banner-error", "401")
    browser.find(".banner-error input[type=password]").send_keys("not-a-jwt", Keys.ENTER)
    banner = browser.shown(".banner-error", "ACCESS_TOKEN_INVALID")
    assert "401" in banner.text


def test_a_valid_token_without_the_permission_shows_the_403(browser, secured):
    server = secured.server
    server.control.create("projects/elsewhere/locations/l", "not-yours")
    open_console(browser, server)
    browser.find(".topbar button").click()
    dialog = browser.shown("dialog[open]")
    dialog.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(
        secured.mint("alice", "alice@example.com"), Keys.ENTER)
    browser.wait(lambda _: not browser.find_all("dialog[open]"), "token dialog still open")
    browser.find("#project").send_keys("elsewhere", Keys.ENTER)
    banner = browser.shown(".banner-error", "403")
    assert "refused this call" in banner.text
    assert "IAM_PERMISSION_DENIED" in banner.text
    assert "cloudaicompanion.operations.list" in banner.text
    assert "projects/elsewhere" in banner.text


def test_without_the_wait_permission_the_page_polls_and_still_sees_the_end(browser, secured):
    server = secured.server
    op = server.control.create("projects/secure/locations/us-east1", "polled")
    open_console(browser, server, f"?operation={op['name']}")
    browser.shown(".banner-error", "401")
    browser.find(".banner-error input[type=password]").send_keys(
        secured.mint("bob", "bob@example.com"), Keys.ENTER)
    browser.shown(".live", "checks the operation every few seconds")
    assert browser.find(".detail-head .badge").text == "Running"
    server.control.complete_error(op["name"], 4, "took too long")
    browser.shown(".detail-head .badge", "Failed")
    assert browser.find(".outcome-error .code").text == "4 DEADLINE_EXCEEDED"

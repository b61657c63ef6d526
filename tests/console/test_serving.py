"""How the binary serves the console: security headers on the page and its
files, the module scripts load under that policy, and --console=false."""

from conftest import http, open_console


def test_page_and_files_carry_the_security_headers(server):
    for path in ["/console/", "/console/app.js", "/console/style.css", "/console/nope"]:
        status, headers, _ = http("GET", f"{server.url}{path}")
        assert status == (404 if path.endswith("nope") else 200), path
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy
        assert "unsafe" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = http("GET", f"{server.url}/console")
    assert status == 308 and headers["Location"] == "/console/"


def test_console_runs_under_its_own_policy(browser, server, parent):
    """The page works at all (a policy violation or script error fails every
    browser test, see conftest's `browser`), and the policy is the one in
    force: strings cannot become HTML or script (Trusted Types), and an
    inline script put into the page does not run (script-src)."""
    server.control.create(parent, "one")
    open_console(browser, server, f"?parent={parent}")
    browser.shown("table.operations tbody tr")
    results = browser.driver.execute_async_script("""
        const done = arguments[0];
        const results = {};
        try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); results.html = 'allowed'; }
        catch (e) { results.html = e.name; }
        const script = document.createElement('script');
        try { script.textContent = 'window.__inline = 1'; results.text = 'allowed'; }
        catch (e) { results.text = e.name; }
        script.appendChild(document.createTextNode('window.__inline = 1'));
        document.addEventListener('securitypolicyviolation',
          (e) => { results.violated = e.violatedDirective; }, { once: true });
        document.body.appendChild(script);
        setTimeout(() => { results.inline = window.__inline === 1 ? 'ran' : 'refused'; done(results); }, 300);
    """)
    assert results["html"] == "TypeError", results
    assert results["text"] == "TypeError", results
    assert results["inline"] == "refused", results
    browser.driver.get_log("browser")  # the refusals just provoked are expected


def test_the_console_cannot_be_framed(browser, server):
    open_console(browser, server)
    framed = browser.driver.execute_async_script("""
        const done = arguments[0];
        const frame = document.createElement('iframe');
        frame.src = location.href;
        frame.onload = () => {
          try { done(frame.contentDocument ? frame.contentDocument.body.innerText : 'opaque'); }
          catch (e) { done('blocked: ' + e.name); }
        };
        document.body.appendChild(frame);
    """)
    assert framed == "opaque", framed
    browser.driver.get_log("browser")


def test_console_off_is_404(no_console):
    for path in ["/console/", "/console/app.js", "/console"]:
        status, _, body = http("GET", f"{no_console.url}{path}")
        assert status == 404, path
        assert b"--console=false" in body

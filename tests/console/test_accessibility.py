"""Accessibility checks that a machine can make: text contrast (WCAG AA) in
the light and the dark scheme, a label on every field, a name on every
button, and the dialog's focus and keyboard handling (see test_actions)."""

import pytest

from test_list import make_states
from conftest import open_console

# For each visible element with text of its own: its colour, the first
# opaque background behind it, and the WCAG contrast ratio of the two.
CONTRAST = """
const parse = (c) => {
  const m = /rgba?\\(([^)]+)\\)/.exec(c);
  if (!m) return null;
  const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const background = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.99) return c;
  }
  return parse(getComputedStyle(document.documentElement).backgroundColor) || { r: 255, g: 255, b: 255 };
};
const luminance = ({ r, g, b }) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const out = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.checkVisibility() || el.closest('[disabled], .stale, noscript')) continue;
  const style = getComputedStyle(el);
  const fg = parse(style.color);
  if (!fg) continue;
  const [a, b] = [luminance(fg), luminance(background(el))].sort((x, y) => y - x);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  out.push({ text: el.textContent.trim().slice(0, 40), ratio: (a + 0.05) / (b + 0.05), need: large ? 3 : 4.5 });
}
return out;
"""


def low_contrast(browser):
    checked = browser.driver.execute_script(CONTRAST)
    assert len(checked) > 20, checked
    return [c for c in checked if c["ratio"] < c["need"]]


@pytest.fixture(params=["light", "dark"])
def scheme(request, browser):
    browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": request.param}]})
    yield request.param
    browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_text_contrast_meets_wcag_aa(browser, server, parent, scheme):
    names = make_states(server.control, parent)
    open_console(browser, server, f"?parent={parent}")
    browser.wait(lambda _: len(browser.find_all("table.operations tbody tr")) == 4)
    assert not low_contrast(browser)
    browser.screenshot(f"list-{scheme}")
    failed = names[2]
    open_console(browser, server, f"?operation={failed}")
    browser.shown(".outcome-error")
    assert not low_contrast(browser)
    open_console(browser, server, f"?parent={parent}&filter=nonsense%20%3D")
    browser.shown(".banner-error")
    assert not low_contrast(browser)


NAMES = """
const unnamed = [];
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  if (!el.labels?.length && !el.getAttribute('aria-label')) unnamed.push(el.outerHTML.slice(0, 80));
}
for (const el of document.querySelectorAll('button, a[href]')) {
  if (!el.textContent.trim() && !el.getAttribute('aria-label')) unnamed.push(el.outerHTML.slice(0, 80));
}
return unnamed;
"""


def test_every_field_has_a_label_and_every_control_a_name(browser, server, parent):
    names = make_states(server.control, parent)
    open_console(browser, server, f"?parent={parent}")
    browser.wait(lambda _: len(browser.find_all("table.operations tbody tr")) == 4)
    assert browser.driver.execute_script(NAMES) == []
    open_console(browser, server, f"?operation={names[0]}")
    browser.shown(".detail-head .badge")
    assert browser.driver.execute_script(NAMES) == []

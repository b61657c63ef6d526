// Small pieces every view uses: the state badge, times with their UTC value
// on hover, formatted JSON with its @type, progress, and the error banner
// that says plainly what the server refused and why.
import { html, useEffect, useState } from './html.js';
import {
  STATES, codeName, localTime, pretty, stateOf, typeName, utcTime,
} from './format.js';
import { TokenForm } from './token.js';

export function StateBadge({ operation }) {
  const state = stateOf(operation);
  return html`<span class=${`badge badge-${state}`} data-state=${state}>
    <span class="badge-dot" aria-hidden="true"></span>${STATES[state]}
  </span>`;
}

export function CancelMarker() {
  return html`<span class="pill pill-warn" title="A client asked to cancel this operation">
    Cancel requested
  </span>`;
}

export function Time({ value }) {
  if (!value) return html`<span class="muted">—</span>`;
  return html`<time datetime=${value.toISOString()} title=${utcTime(value)}>${localTime(value)}</time>`;
}

// Re-renders every `ms` while `active`, for ages and running durations.
export function useNow(ms, active = true) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms, active]);
  return now;
}

export function Progress({ percent }) {
  const rounded = Math.round(percent * 10) / 10;
  return html`<span class="progress">
    <progress max="100" value=${percent} aria-label="Progress">${rounded}%</progress>
    <span class="progress-text">${rounded}%</span>
  </span>`;
}

// JSON tokens for colour: each one a text node in a span, never markup.
const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

function highlight(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    const [token, string, colon] = match;
    let kind = 'json-number';
    if (string) kind = colon ? 'json-key' : 'json-string';
    else if (token === 'null') kind = 'json-null';
    else if (token === 'true' || token === 'false') kind = 'json-bool';
    parts.push(html`<span class=${kind}>${string && colon ? string : token}</span>`);
    if (colon) parts.push(colon);
    last = match.index + token.length;
  }
  parts.push(text.slice(last));
  return parts;
}

export function JsonBlock({ value, label }) {
  const type = typeName(value);
  return html`<section class="json" aria-label=${label}>
    <header class="json-head">
      <h3>${label}</h3>
      ${type && html`<code class="type" title=${value['@type']}>@type ${type}</code>`}
    </header>
    <pre tabindex="0"><code>${highlight(pretty(value))}</code></pre>
  </section>`;
}

function headline(error) {
  switch (error.httpStatus) {
    case 0: return 'The server could not be reached';
    case 401: return 'The server needs a bearer token (401 Unauthorized)';
    case 403: return 'The server refused this call (403 Forbidden)';
    default: return `The server answered ${error.httpStatus} ${error.status}`;
  }
}

// ErrorInfo's metadata (permission, resource, position, ...) as a list.
function Facts({ error }) {
  const info = error.errorInfo;
  const rows = [['status', error.status]];
  if (info?.reason) rows.push(['reason', info.reason]);
  for (const [key, value] of Object.entries(info?.metadata || {})) rows.push([key, String(value)]);
  return html`<dl class="facts">
    ${rows.map(([key, value]) => html`<div><dt>${key}</dt><dd>${value}</dd></div>`)}
  </dl>`;
}

export function ErrorBanner({ error, onRetry, what }) {
  if (error.httpStatus === 401) {
    return html`<div class="banner banner-error" role="alert">
      <h2>${headline(error)}</h2>
      <p>${what ? `${what}: ` : ''}${error.message}</p>
      <${Facts} error=${error} />
      <${TokenForm} />
    </div>`;
  }
  return html`<div class="banner banner-error" role="alert">
    <h2>${headline(error)}</h2>
    <p>${what ? `${what}: ` : ''}${error.message}</p>
    ${error.httpStatus !== 0 && html`<${Facts} error=${error} />`}
    ${error.httpStatus === 403 && html`<p class="hint">
      Your token is valid, but the server's policy does not give it this permission. Ask for a
      role that includes it, or use another token (button “Token” above).</p>`}
    ${onRetry && html`<p><button type="button" class="button" onClick=${onRetry}>Try again</button></p>`}
  </div>`;
}

export { codeName };

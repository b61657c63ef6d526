// One operation: everything the server says about it, followed live while
// it runs (long `:wait` calls, which return at once when it is done; plain
// polling with backoff when the server refuses Wait), with its actions.
import { html, useEffect, useState } from './html.js';
import { api } from './api.js';
import { ActionAnswer, Actions } from './actions.js';
import {
  CancelMarker, ErrorBanner, JsonBlock, Progress, StateBadge, Time, useNow,
} from './components.js';
import {
  codeName, duration, lastSegment, parentOf, progressOf, runTime, standardFields, stateOf,
  typeName,
} from './format.js';
import { Link, lastListHref } from './router.js';
import { useToken } from './token.js';

// How long one Wait may block: also how stale metadata (progress, status
// message) may get while the operation runs, as Wait returns early only
// when the operation is done.
const WAIT_TIMEOUT = '5s';
const POLL_FIRST_MS = 1000;
const POLL_MAX_MS = 10000;
const RETRY_MAX_MS = 30000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      window.clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

const gone = (error) => error.httpStatus === 404 && error.reason === 'OPERATION_NOT_FOUND';

// Keeps `state.operation` current until the operation is done, it is gone,
// or the page leaves. `following` says how: 'wait', 'poll' or 'retry'.
async function follow(name, signal, setState) {
  let operation = null;
  let useWait = true;
  let pollMs = POLL_FIRST_MS;
  let retryMs = POLL_FIRST_MS;
  while (!signal.aborted) {
    try {
      const next = operation && useWait
        ? await api.wait(name, WAIT_TIMEOUT, signal)
        : await api.get(name, signal);
      const changed = JSON.stringify(next) !== JSON.stringify(operation);
      operation = next;
      retryMs = POLL_FIRST_MS;
      setState({ operation, following: next.done ? null : useWait ? 'wait' : 'poll' });
      if (next.done) return;
      if (!useWait) {
        pollMs = changed ? POLL_FIRST_MS : Math.min(pollMs * 1.5, POLL_MAX_MS);
        await sleep(pollMs, signal);
      }
    } catch (error) {
      if (error?.name === 'AbortError' || signal.aborted) return;
      if (operation && useWait && !gone(error) && [403, 404, 405, 501].includes(error.httpStatus)) {
        // Wait refused (a role without it, custom routes): poll instead.
        useWait = false;
      } else if (error.httpStatus === 0 || error.httpStatus >= 500) {
        setState({ operation, error, following: 'retry', retryIn: retryMs });
        await sleep(retryMs, signal);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      } else {
        setState({ operation, error, following: null, gone: gone(error) });
        return;
      }
    }
  }
}

function useOperation(name, active) {
  const token = useToken();
  const [state, setState] = useState({});
  const [epoch, setEpoch] = useState(0);
  useEffect(() => {
    if (!active) return undefined;
    const abort = new AbortController();
    follow(name, abort.signal, (next) => setState((previous) => ({
      ...next,
      operation: next.operation || previous.operation,
    })));
    return () => abort.abort();
  }, [name, token, epoch, active]);
  return [state, () => setEpoch((n) => n + 1)];
}

function Following({ state }) {
  switch (state.following) {
    case 'wait': return html`<p class="live" role="status"><span class="live-dot" aria-hidden="true"></span>
      Following live: the page updates as soon as the operation is done.</p>`;
    case 'poll': return html`<p class="live" role="status"><span class="live-dot" aria-hidden="true"></span>
      Following: the page checks the operation every few seconds.</p>`;
    case 'retry': return html`<p class="live live-retry" role="status">
      ${`Lost contact with the server (${state.error.message}); trying again in ${Math.round(state.retryIn / 1000)} s.`}</p>`;
    default: return null;
  }
}

// The summary is a grid of four columns; `span` cells take several.
function Row({ label, span = 1, children }) {
  return html`<div class=${`summary-row span-${span}`}><dt>${label}</dt><dd>${children}</dd></div>`;
}

function Summary({ operation }) {
  const fields = standardFields(operation);
  const now = useNow(1000, !operation.done);
  const ms = runTime(fields, operation, now);
  const progress = progressOf(operation);
  const type = typeName(operation.metadata);
  const none = html`<span class="muted">—</span>`;
  return html`<dl class="summary">
    <${Row} label="Created"><${Time} value=${fields.createTime} /><//>
    <${Row} label="Ended"><${Time} value=${fields.endTime} /><//>
    <${Row} label=${operation.done ? 'Duration' : 'Running for'}>${ms === null ? none : duration(ms)}<//>
    <${Row} label="Cancellation requested">${fields.requestedCancellation
      ? html`<${CancelMarker} />` : 'No'}<//>
    <${Row} label="Verb">${fields.verb || none}<//>
    <${Row} label="Target" span=${3}>${fields.target ? html`<code class="wrap">${fields.target}</code>` : none}<//>
    <${Row} label="Status message" span=${progress === null ? 4 : 2}>${fields.statusMessage || none}<//>
    ${progress !== null && html`<${Row} label="Progress" span=${2}><${Progress} percent=${progress} /><//>`}
    <${Row} label="Metadata type" span=${fields.apiVersion ? 2 : 4}>${type
      ? html`<code>${type}</code>` : html`<span class="muted">no metadata</span>`}<//>
    ${fields.apiVersion && html`<${Row} label="API version" span=${2}>${fields.apiVersion}<//>`}
  </dl>`;
}

const isErrorInfo = (detail) => typeName(detail) === 'google.rpc.ErrorInfo';

function OperationError({ error }) {
  const details = Array.isArray(error.details) ? error.details : [];
  return html`<section class="outcome outcome-error" aria-labelledby="error-title">
    <h2 id="error-title">Error</h2>
    <p class="error-line"><span class="code">${error.code ?? 0} ${codeName(error.code)}</span>
      <span class="error-message">${error.message || ''}</span></p>
    ${details.filter(isErrorInfo).map((info) => html`<dl class="facts">
      <div><dt>reason</dt><dd>${info.reason || ''}</dd></div>
      <div><dt>domain</dt><dd>${info.domain || ''}</dd></div>
      ${Object.entries(info.metadata || {}).map(([key, value]) => html`<div><dt>${key}</dt><dd>${String(value)}</dd></div>`)}
    </dl>`)}
    ${details.map((detail, i) => html`<${JsonBlock} key=${i} value=${detail} label=${`Detail ${i + 1}`} />`)}
  </section>`;
}

function Body({ operation }) {
  return html`
    ${operation.error && html`<${OperationError} error=${operation.error} />`}
    ${operation.response && html`<${JsonBlock} value=${operation.response} label="Response" />`}
    ${operation.metadata
      ? html`<${JsonBlock} value=${operation.metadata} label="Metadata" />`
      : html`<p class="muted">This operation has no metadata.</p>`}`;
}

export function DetailPage({ name }) {
  const [deleted, setDeleted] = useState(false);
  const [state, refresh] = useOperation(name, !deleted);
  const [answer, setAnswer] = useState(null);
  const { operation } = state;
  useEffect(() => {
    document.title = `${lastSegment(name)} · Operations · longrun`;
    setAnswer(null);
    setDeleted(false);
  }, [name]);
  const back = lastListHref(parentOf(name));
  return html`<div class="page">
    <nav class="crumbs" aria-label="Breadcrumb"><${Link} href=${back}>← Operations<//></nav>
    <div class="page-head detail-head">
      <h1 class="op-id">${lastSegment(name)}</h1>
      ${operation && html`<${StateBadge} operation=${operation} />`}
      ${operation && standardFields(operation).requestedCancellation && stateOf(operation) !== 'cancelled'
        && html`<${CancelMarker} />`}
      <span class="spacer"></span>
      ${operation && html`<${Actions} operation=${operation} deleted=${deleted}
        onAnswer=${setAnswer} onCancelled=${refresh} onDeleted=${() => setDeleted(true)} />`}
    </div>
    <p class="full-name"><code>${name}</code></p>
    ${answer && html`<div class="action-answer"><${ActionAnswer} answer=${answer} /></div>`}
    ${!deleted && html`<${Following} state=${state} />`}
    ${state.error && state.following !== 'retry' && !deleted && html`<${ErrorBanner} error=${state.error}
      what=${state.gone && operation ? 'The operation is gone' : 'Reading the operation'} onRetry=${refresh} />`}
    ${!operation && !state.error && html`<p class="empty" role="status">Loading…</p>`}
    ${operation && html`<div class=${deleted ? 'stale' : ''}>
      ${deleted && html`<p class="hint">The last state the server reported before the delete:</p>`}
      <${Summary} operation=${operation} />
      <${Body} operation=${operation} />
    </div>`}
  </div>`;
}

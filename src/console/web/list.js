// The list: a project and location (`-` for all), an AIP-160 filter with the
// server's own error at the position it names, quick filters, pages by
// page token, newest first (the server's order), one row per operation.
import { html, useEffect, useRef, useState } from './html.js';
import { api } from './api.js';
import {
  CancelMarker, ErrorBanner, Progress, StateBadge, useNow,
} from './components.js';
import {
  age, duration, lastSegment, localTime, parentOf, progressOf, runTime, standardFields,
  stateOf, utcTime,
} from './format.js';
import {
  Link, listHref, navigate, operationHref, rememberList,
} from './router.js';
import { useToken } from './token.js';

const QUICK = [
  ['All', ''],
  ['Running', 'done = false'],
  ['Done', 'done = true'],
  ['Failed', 'error.code:* AND error.code != 1'],
  ['Cancelled', 'error.code = 1'],
];
const PAGE_SIZES = [10, 25, 50, 100];
const PARENT_KEY = 'longrun.console.parent';

function splitParent(parent) {
  const match = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent);
  return match ? [match[1], match[2]] : ['', '-'];
}

function rememberedParent() {
  try {
    return window.localStorage.getItem(PARENT_KEY) || '';
  } catch {
    return '';
  }
}

function useList(route, parent) {
  const token = useToken();
  const [reload, setReload] = useState(0);
  const [state, setState] = useState({ loading: Boolean(parent) });
  useEffect(() => {
    if (!parent) {
      setState({ loading: false });
      return undefined;
    }
    const abort = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    const { filter, pageSize, pageToken } = route;
    api.list(parent, { filter, pageSize, pageToken }, abort.signal)
      .then((data) => setState({ loading: false, data }))
      .catch((error) => {
        if (error?.name !== 'AbortError') setState({ loading: false, error });
      });
    return () => abort.abort();
  }, [parent, route.filter, route.pageSize, route.pageToken, token, reload]);
  return [state, () => setReload((n) => n + 1)];
}

// The filter as typed, with the character the server points at marked and
// a caret under it.
function errorPosition(error) {
  const position = Number.parseInt(error?.errorInfo?.metadata?.position ?? '', 10);
  return Number.isFinite(position) ? position : null;
}

function FilterError({ error, filter }) {
  const position = errorPosition(error);
  const chars = Array.from(filter);
  const at = position === null ? null : Math.min(Math.max(position, 0), chars.length);
  return html`<div class="banner banner-error filter-error" role="alert" id="filter-error">
    <h2>The filter is not valid</h2>
    <p>${error.message}</p>
    ${at !== null && html`
      <pre class="caret" aria-label=${`at character ${at + 1}`}><code>${chars.slice(0, at).join('')}<mark>${chars[at] ?? ' '}</mark>${chars.slice(at + 1).join('')}</code>${'\n'}<span aria-hidden="true">${`${' '.repeat(at)}^ position ${at}`}</span></pre>`}
    <p class="hint">Fields: <code>done</code>, <code>name</code>, <code>error.code</code>${' and '}
      <code>metadata.<i>field</i></code>${' of a known metadata type; operators '}
      <code>${'= != < <= > >= :'}</code>; <code>AND OR NOT</code> and parentheses.</p>
  </div>`;
}

function Details({ operation, fields }) {
  const progress = operation.done ? null : progressOf(operation);
  const head = [fields.verb, fields.target].filter(Boolean);
  return html`
    ${head.length > 0 && html`<div class="details-head">
      ${fields.verb && html`<span class="verb">${fields.verb}</span>`}
      ${fields.target && html`<span class="target" title=${fields.target}>${fields.target}</span>`}
    </div>`}
    ${fields.statusMessage && html`<div class="status-message">${fields.statusMessage}</div>`}
    ${progress !== null && html`<${Progress} percent=${progress} />`}
    ${head.length === 0 && !fields.statusMessage && progress === null && html`<span class="muted">—</span>`}`;
}

function Row({ operation, now, showLocation }) {
  const fields = standardFields(operation);
  const ms = runTime(fields, operation, now);
  const name = String(operation.name || '');
  return html`<tr data-name=${name}>
    <td data-label="Operation">
      <${Link} href=${operationHref(name)} class="op-link" title=${name}>${lastSegment(name)}<//>
      ${showLocation && html`<div class="sub">${lastSegment(parentOf(name))}</div>`}
    </td>
    <td data-label="State">
      <div class="state-cell">
        <${StateBadge} operation=${operation} />
        ${fields.requestedCancellation && stateOf(operation) !== 'cancelled' && html`<${CancelMarker} />`}
      </div>
    </td>
    <td data-label="Age">${fields.createTime
      ? html`<span title=${`${localTime(fields.createTime)} (${utcTime(fields.createTime)})`}>${age(fields.createTime, now)}</span>`
      : html`<span class="muted">—</span>`}</td>
    <td data-label="Duration">${ms === null ? html`<span class="muted">—</span>` : duration(ms)}</td>
    <td data-label="Details" class="details"><${Details} operation=${operation} fields=${fields} /></td>
  </tr>`;
}

function Table({ operations, loading, showLocation }) {
  const now = useNow(1000, operations.some((op) => !op.done));
  if (operations.length === 0) {
    return html`<p class="empty" role="status">${loading ? 'Loading…' : 'No operations match.'}</p>`;
  }
  return html`<div class="table-wrap">
    <table class="operations" aria-busy=${loading ? 'true' : 'false'}>
      <caption class="visually-hidden">Operations, newest first</caption>
      <thead><tr>
        <th scope="col">Operation</th><th scope="col">State</th><th scope="col">Age</th>
        <th scope="col">Duration</th><th scope="col">Details</th>
      </tr></thead>
      <tbody>${operations.map((operation) => html`<${Row} key=${operation.name}
        operation=${operation} now=${now} showLocation=${showLocation} />`)}</tbody>
    </table>
  </div>`;
}

function Pager({ route, nextPageToken, count }) {
  const page = route.previous.length + 1;
  const known = route.previous.length > 0 || !route.pageToken;
  const go = (pageToken, previous) => navigate(listHref({ ...route, pageToken }), { previous });
  const setSize = (event) => navigate(listHref({ ...route, pageSize: Number(event.currentTarget.value), pageToken: '' }));
  return html`<nav class="pager" aria-label="Pages">
    <label class="page-size">Per page
      <select value=${route.pageSize} onChange=${setSize}>
        ${PAGE_SIZES.map((size) => html`<option value=${size}>${size}</option>`)}
      </select>
    </label>
    <span class="page-number" aria-live="polite">${known ? `Page ${page}` : 'A later page'}${
      ` · ${count === 1 ? '1 operation' : `${count} operations`}, newest first`}</span>
    ${!known && html`<button type="button" class="button" onClick=${() => go('', [])}>First page</button>`}
    <button type="button" class="button" disabled=${route.previous.length === 0}
      onClick=${() => go(route.previous.at(-1), route.previous.slice(0, -1))}>Previous</button>
    <button type="button" class="button" disabled=${!nextPageToken}
      onClick=${() => go(nextPageToken, [...route.previous, route.pageToken])}>Next</button>
  </nav>`;
}

function Toolbar({ route, parent, seenLocations, badAt }) {
  const [project, location] = splitParent(parent);
  const [draft, setDraft] = useState({ project, location, filter: route.filter });
  useEffect(() => setDraft({ project, location, filter: route.filter }), [parent, route.filter]);
  const filterInput = useRef(null);
  // The cursor goes where the server says the filter goes wrong. The
  // position counts characters; the input counts UTF-16 units.
  useEffect(() => {
    const input = filterInput.current;
    if (badAt === null || !input) return;
    const offset = Array.from(route.filter).slice(0, badAt).join('').length;
    input.focus();
    input.setSelectionRange(offset, offset);
  }, [badAt, route.filter]);
  const apply = (filter) => {
    const next = `projects/${draft.project.trim()}/locations/${draft.location.trim() || '-'}`;
    try {
      window.localStorage.setItem(PARENT_KEY, next);
    } catch { /* private mode: the URL still holds it */ }
    navigate(listHref({ parent: next, filter, pageSize: route.pageSize }));
  };
  const submit = (event) => {
    event.preventDefault();
    apply(draft.filter.trim());
  };
  const set = (key) => (event) => setDraft({ ...draft, [key]: event.currentTarget.value });
  return html`<form class="toolbar" onSubmit=${submit} role="search" aria-label="Operations">
    <div class="field field-project">
      <label for="project">Project</label>
      <input id="project" name="project" required spellcheck="false" autocomplete="off"
        value=${draft.project} onInput=${set('project')} placeholder="my-project" />
    </div>
    <div class="field field-location">
      <label for="location">Location <span class="hint">(- for all)</span></label>
      <input id="location" name="location" spellcheck="false" autocomplete="off" list="locations"
        value=${draft.location} onInput=${set('location')} />
      <datalist id="locations">
        <option value="-">all locations</option>
        ${seenLocations.map((l) => html`<option value=${l}></option>`)}
      </datalist>
    </div>
    <div class="field field-filter">
      <label for="filter">Filter <span class="hint">(AIP-160)</span></label>
      <input id="filter" name="filter" ref=${filterInput} spellcheck="false" autocomplete="off"
        value=${draft.filter} onInput=${set('filter')} aria-invalid=${badAt === null ? 'false' : 'true'}
        aria-describedby=${badAt === null ? undefined : 'filter-error'}
        placeholder='done = false AND metadata.verb = "create"' />
    </div>
    <div class="field field-submit"><button type="submit" class="button button-primary">Apply</button></div>
    <div class="quick" role="group" aria-label="Quick filters">
      ${QUICK.map(([label, filter]) => html`<button type="button" class="chip"
        aria-pressed=${route.filter === filter ? 'true' : 'false'} title=${filter || 'no filter'}
        disabled=${!draft.project.trim()} onClick=${() => apply(filter)}>${label}</button>`)}
    </div>
  </form>`;
}

export function ListPage({ route }) {
  const parent = route.parent || rememberedParent();
  const [state, refresh] = useList(route, parent);
  const operations = state.data?.operations || [];
  const allLocations = parent.endsWith('/locations/-');
  const seen = [...new Set(operations.map((op) => lastSegment(parentOf(String(op.name)))))];
  useEffect(() => {
    document.title = parent ? `Operations · ${parent} · longrun` : 'Operations · longrun';
    rememberList();
  }, [parent, route.filter, route.pageSize, route.pageToken]);
  const filterError = state.error?.reason === 'INVALID_FILTER';
  return html`<div class="page">
    <div class="page-head">
      <h1>Operations</h1>
      ${parent && html`<span class="parent" title="The parent being listed">${parent}</span>`}
      <span class="spacer"></span>
      ${parent && html`<button type="button" class="button" onClick=${refresh}
        disabled=${state.loading}>${state.loading ? 'Loading…' : 'Refresh'}</button>`}
    </div>
    <${Toolbar} route=${route} parent=${parent} seenLocations=${seen}
      badAt=${filterError ? errorPosition(state.error) : null} />
    ${!parent && html`<p class="empty">Enter a project (and a location, or <code>-</code> for
      all of them) to list its operations.</p>`}
    ${filterError && html`<${FilterError} error=${state.error} filter=${route.filter} />`}
    ${state.error && !filterError && html`<${ErrorBanner} error=${state.error}
      what="Listing operations" onRetry=${refresh} />`}
    ${parent && !state.error && html`
      <${Table} operations=${operations} loading=${state.loading} showLocation=${allLocations} />
      <${Pager} route=${route} nextPageToken=${state.data?.nextPageToken || ''}
        count=${operations.length} />`}
  </div>`;
}

// Where the console is, kept in the page's query string so that every view
// has a link and Back and Forward work:
//   ?parent=projects/P/locations/L&filter=F&pageSize=N&pageToken=T  a list
//   ?operation=projects/P/locations/L/operations/ID                 one operation
import { html, useEffect, useState } from './html.js';

const listeners = new Set();
const notify = () => listeners.forEach((listener) => listener());
window.addEventListener('popstate', notify);

export function readRoute() {
  const query = new URLSearchParams(window.location.search);
  const operation = query.get('operation');
  if (operation) return { view: 'operation', name: operation };
  const pageSize = Number.parseInt(query.get('pageSize') || '', 10);
  return {
    view: 'list',
    parent: query.get('parent') || '',
    filter: query.get('filter') || '',
    pageSize: Number.isFinite(pageSize) && pageSize > 0 ? pageSize : 25,
    pageToken: query.get('pageToken') || '',
    // Tokens of the pages before this one, for "Previous".
    previous: Array.isArray(window.history.state?.previous) ? window.history.state.previous : [],
  };
}

export function navigate(href, state = null) {
  window.history.pushState(state, '', href);
  notify();
}

export function useRoute() {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const listener = () => setRoute(readRoute());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
  return route;
}

function href(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== '' && value !== undefined && value !== null) query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `?${text}` : window.location.pathname;
}

export function listHref({ parent, filter, pageSize, pageToken }) {
  return href({ parent, filter, pageSize: pageSize === 25 ? '' : pageSize, pageToken });
}

export function operationHref(name) {
  return href({ operation: name });
}

// A plain link that navigates inside the page; a modified click (new tab,
// new window) is left to the browser.
export function Link({ href: target, children, ...rest }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(target);
  };
  return html`<a href=${target} onClick=${onClick} ...${rest}>${children}</a>`;
}

// The list the user last looked at, for the detail page's way back.
let lastList = '';

export function rememberList() {
  lastList = window.location.search || window.location.pathname;
}

export function lastListHref(parent) {
  return lastList || listHref({ parent, filter: '', pageSize: 25, pageToken: '' });
}

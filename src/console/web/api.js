// The public REST API of the server that serves this page (config/
// http_rules.yaml): list, get, wait, cancel, delete. Same origin, so no
// CORS; with authentication on, the bearer token from sessionStorage rides
// along. Every refusal becomes an ApiError carrying Google's error
// envelope: status, message and details (ErrorInfo among them).

const TOKEN_KEY = 'longrun.console.token';
const tokenListeners = new Set();

export function getToken() {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(value) {
  const token = value.trim().replace(/^Bearer\s+/i, '');
  try {
    if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
    else window.sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage refused (a locked-down browser): the console cannot keep a token.
  }
  tokenListeners.forEach((listener) => listener());
}

export function onTokenChange(listener) {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

export class ApiError extends Error {
  constructor({ httpStatus, status, message, details = [] }) {
    super(message);
    this.httpStatus = httpStatus;
    this.status = status;
    this.details = details;
  }

  get errorInfo() {
    return this.details.find(
      (detail) => typeof detail?.['@type'] === 'string'
        && detail['@type'].endsWith('/google.rpc.ErrorInfo'),
    );
  }

  get reason() {
    return this.errorInfo?.reason || '';
  }
}

// Each segment encoded on its own: the `/` between them are the template's.
const path = (name) => name.split('/').map(encodeURIComponent).join('/');

async function call(method, route, { query, body, signal } = {}) {
  const url = new URL(`/v1/${route}`, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== '' && value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError({
      httpStatus: 0,
      status: 'UNAVAILABLE',
      message: `the server could not be reached (${error?.message || error})`,
    });
  }
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (response.ok && json !== undefined) return { httpStatus: response.status, json };
  const envelope = json?.error;
  throw new ApiError({
    httpStatus: response.status,
    status: envelope?.status || (response.ok ? 'INTERNAL' : response.statusText),
    message: envelope?.message
      || (response.ok ? 'the server answered with something that is not JSON' : text.slice(0, 500))
      || `HTTP ${response.status}`,
    details: Array.isArray(envelope?.details) ? envelope.details : [],
  });
}

const json = (answer) => answer.json;

export const api = {
  list(parent, { filter, pageSize, pageToken }, signal) {
    return call('GET', `${path(parent)}/operations`, {
      query: { filter, pageSize, pageToken },
      signal,
    }).then(json);
  },
  get(name, signal) {
    return call('GET', path(name), { signal }).then(json);
  },
  // Returns when the operation is done or the timeout ends, with its latest state.
  wait(name, timeout, signal) {
    return call('POST', `${path(name)}:wait`, { body: { timeout }, signal }).then(json);
  },
  // The actions answer with the HTTP status too: the console shows it.
  cancel(name) {
    return call('POST', `${path(name)}:cancel`, { body: {} });
  },
  remove(name) {
    return call('DELETE', path(name));
  },
};

// The bearer token, for servers with authentication on: pasted by the user,
// kept in this tab's sessionStorage only (gone when the tab closes), sent
// only to this server, in the Authorization header.
import { html, useEffect, useRef, useState } from './html.js';
import { getToken, onTokenChange, setToken } from './api.js';

// The current token; the component re-renders when it changes.
export function useToken() {
  const [token, set] = useState(getToken);
  useEffect(() => onTokenChange(() => set(getToken())), []);
  return token;
}

let formCount = 0;

export function TokenForm({ onDone }) {
  const token = useToken();
  const [draft, setDraft] = useState('');
  const [id] = useState(() => `token-${++formCount}`);
  const submit = (event) => {
    event.preventDefault();
    setToken(draft);
    setDraft('');
    onDone?.();
  };
  const forget = () => {
    setToken('');
    onDone?.();
  };
  return html`<form class="token-form" onSubmit=${submit}>
    <label for=${id}>Bearer token</label>
    <div class="row">
      <input id=${id} name="token" type="password" autocomplete="off" spellcheck="false"
        placeholder=${token ? 'a token is set; paste another to replace it' : 'eyJ…'}
        value=${draft} onInput=${(e) => setDraft(e.currentTarget.value)} />
      <button type="submit" class="button button-primary" disabled=${!draft.trim()}>Use token</button>
      ${token && html`<button type="button" class="button" onClick=${forget}>Forget token</button>`}
    </div>
    <p class="hint">Kept in this browser tab only (sessionStorage) and sent only to this server,
      as <code>Authorization: Bearer …</code>.</p>
  </form>`;
}

// The header's button: shows whether a token is set, opens the form.
export function TokenButton() {
  const token = useToken();
  const dialog = useRef(null);
  const open = () => dialog.current?.showModal();
  const close = () => dialog.current?.close();
  return html`
    <button type="button" class="button button-quiet" onClick=${open} aria-haspopup="dialog">
      <span class=${token ? 'key key-set' : 'key'} aria-hidden="true"></span>
      ${token ? 'Token set' : 'Token'}
    </button>
    <dialog ref=${dialog} class="dialog" aria-labelledby="token-title">
      <h2 id="token-title">Bearer token</h2>
      <p>Needed when the server has authentication on. The console calls the server's public
        REST API with it; the server's policy decides what the token may see and do.</p>
      <${TokenForm} onDone=${close} />
      <div class="dialog-actions">
        <button type="button" class="button" onClick=${close}>Close</button>
      </div>
    </dialog>`;
}

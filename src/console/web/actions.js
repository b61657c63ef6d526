// Cancel and Delete, each behind a confirmation that says what it does and
// what it does not, and each followed by the server's own answer.
import { html, useEffect, useRef, useState } from './html.js';
import { api } from './api.js';
import { ErrorBanner } from './components.js';
import { pretty } from './format.js';

function Confirm({ title, children, confirmLabel, danger, busy, onConfirm, onClose }) {
  const dialog = useRef(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.open && element.close();
  }, []);
  // Escape closes the dialog (the `cancel` event); so does "Keep it".
  const onCancel = (event) => {
    event.preventDefault();
    if (!busy) onClose();
  };
  return html`<dialog ref=${dialog} class="dialog" aria-labelledby="confirm-title"
      aria-describedby="confirm-body" onCancel=${onCancel}>
    <h2 id="confirm-title">${title}</h2>
    <div id="confirm-body">${children}</div>
    <div class="dialog-actions">
      <button type="button" class="button" onClick=${onClose} disabled=${busy}>Keep it</button>
      <button type="button" class=${danger ? 'button button-danger' : 'button button-primary'}
        data-confirm="true" onClick=${onConfirm} disabled=${busy}>${busy ? 'Sending…' : confirmLabel}</button>
    </div>
  </dialog>`;
}

function CancelText({ name }) {
  return html`
    <p>Ask the server to cancel <code class="name">${name}</code>?</p>
    <p>Cancelling is <strong>best effort</strong>. The server records the request at once and
      tells the worker running the operation. The operation ends as <em>Cancelled</em> when the
      worker acknowledges, or when the operation's cancel grace runs out if the worker does not
      answer (the grace is set per operation; the server's default is its <code>--cancel-grace</code>).
      If no worker has started it, it ends at once. A worker that
      finishes first keeps its result.</p>`;
}

function DeleteText({ name, done }) {
  return html`
    <p>Delete <code class="name">${name}</code>?</p>
    <p>Deleting removes the operation's record from the server. <strong>It does not stop the
      work</strong>: a worker still running it carries on, and the
      server refuses its result when it reports (NOT_FOUND). Anyone asking about the operation
      afterwards gets NOT_FOUND.</p>
    ${!done && html`<p>This operation is still running: to stop the work, cancel it instead.</p>`}`;
}

export function ActionAnswer({ answer }) {
  if (answer.error) {
    const what = answer.kind === 'cancel' ? 'Cancel' : 'Delete';
    return html`<${ErrorBanner} error=${answer.error} what=${what} />`;
  }
  const body = pretty(answer.json);
  const text = answer.kind === 'cancel'
    ? 'Cancellation requested. The operation stays running until its worker stops or its grace runs out; this page follows it.'
    : 'Deleted. The server no longer knows this operation; any work still running goes on.';
  return html`<div class="banner banner-ok" role="status">
    <p><strong>${text}</strong></p>
    <p class="server-answer">The server answered <code>${answer.httpStatus}</code> with <code>${body}</code>.</p>
  </div>`;
}

export function Actions({ operation, deleted, onAnswer, onCancelled, onDeleted }) {
  const [confirming, setConfirming] = useState(null);
  const [busy, setBusy] = useState(false);
  const name = operation.name;
  const run = async (kind) => {
    setBusy(true);
    try {
      const { httpStatus, json } = kind === 'cancel' ? await api.cancel(name) : await api.remove(name);
      onAnswer({ kind, httpStatus, json });
      if (kind === 'cancel') onCancelled();
      else onDeleted();
    } catch (error) {
      onAnswer({ kind, error });
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  };
  return html`
    <div class="actions">
      <button type="button" class="button" disabled=${operation.done || deleted || busy}
        title=${operation.done ? 'The operation is done: there is nothing to cancel' : ''}
        onClick=${() => setConfirming('cancel')}>Cancel operation</button>
      <button type="button" class="button button-danger-quiet" disabled=${deleted || busy}
        onClick=${() => setConfirming('delete')}>Delete</button>
    </div>
    ${confirming === 'cancel' && html`<${Confirm} title="Cancel this operation?"
      confirmLabel="Request cancellation" busy=${busy} onConfirm=${() => run('cancel')}
      onClose=${() => setConfirming(null)}><${CancelText} name=${name} /><//>`}
    ${confirming === 'delete' && html`<${Confirm} title="Delete this operation?" danger
      confirmLabel="Delete" busy=${busy} onConfirm=${() => run('delete')}
      onClose=${() => setConfirming(null)}><${DeleteText} name=${name} done=${operation.done} /><//>`}`;
}

// The console's entry point: the header, and the view the URL names.
import { html, render } from './html.js';
import { DetailPage } from './detail.js';
import { ListPage } from './list.js';
import { useRoute } from './router.js';
import { TokenButton } from './token.js';

function App() {
  const route = useRoute();
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="./" aria-label="longrun console home">
        <span class="brand-mark" aria-hidden="true"></span>
        <span class="brand-name">longrun</span>
        <span class="brand-sub">Operations console</span>
      </a>
      <span class="spacer"></span>
      <${TokenButton} />
    </header>
    <main id="main" tabindex="-1">
      ${route.view === 'operation'
        ? html`<${DetailPage} key=${route.name} name=${route.name} />`
        : html`<${ListPage} route=${route} />`}
    </main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);

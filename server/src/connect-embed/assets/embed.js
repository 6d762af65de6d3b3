// The script of the hosted connect form (/connect/embed). Served as a static, content-hashed
// file; the page's CSP allows no inline script. It reads its settings from the <body> data
// attributes the server rendered (after checking the publishable key and the parent origin),
// calls POST /v1/keys/connect same-origin, and reports to the parent window with postMessage
// aimed at that one origin. The typed key stays in this document: it is sent only in the
// request body, never put in a URL, a message or the page. The chosen provider's fields are
// cloned from its server-rendered <template> (its catalog entry), so no HTML is built here.
// The optional spending cap is sent as the key owner's `limits`; after a connect, the form asks
// GET /connect/embed/models for a few seconds how many models the key unlocks.

(() => {
  const body = document.body;
  const form = document.getElementById('byo-form');
  const settings = body.dataset;
  const parentOrigin = settings.parentOrigin;
  if (!form || !parentOrigin) return;

  const fields = document.getElementById('byo-fields');
  const select = document.getElementById('byo-provider');
  const submit = document.getElementById('byo-submit');
  const submitLabel = document.getElementById('byo-submit-label');
  const statusLine = document.getElementById('byo-status');
  const errorLine = document.getElementById('byo-error');
  const capMax = document.getElementById('byo-cap-max');
  const capWindow = document.getElementById('byo-cap-window');

  const post = (message) => window.parent.postMessage(message, parentOrigin);

  // The server rendered this form for a parent origin on the project's list; check that the
  // page that actually framed it is that origin (ancestorOrigins, else the referrer).
  function framingOrigin() {
    const ancestors = location.ancestorOrigins;
    if (ancestors && ancestors.length > 0) return ancestors[0];
    try {
      return document.referrer ? new URL(document.referrer).origin : null;
    } catch {
      return null;
    }
  }
  const actual = framingOrigin();
  if (window.parent === window || (actual && actual !== parentOrigin)) {
    for (const el of form.elements) el.disabled = true;
    errorLine.textContent = 'This form only works inside the app that opened it.';
    return;
  }

  // A connect token travels in the URL fragment (never sent to a server); drop it from the URL.
  let connectToken = '';
  function readToken() {
    const match = /(?:^#|&)ct=([^&]*)/.exec(location.hash);
    if (match) connectToken = decodeURIComponent(match[1]);
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  }
  readToken();
  window.addEventListener('hashchange', readToken);

  function provider() {
    if (select) return select.value;
    const checked = form.querySelector('input[name="provider"]:checked');
    return checked ? checked.value : '';
  }

  const template = (p) => document.getElementById(`byo-creds-${p}`);
  const inputs = () => fields.querySelectorAll('input[data-field]');

  // Values typed for one provider are dropped on a switch: a key is never sent to another provider.
  function onProviderChange() {
    const t = template(provider());
    fields.replaceChildren(t ? t.content.cloneNode(true) : '');
    clearMessages();
  }

  // Bumped by every submit and provider switch: a models answer for an older connect is dropped.
  let attempt = 0;

  function clearMessages() {
    attempt++;
    capMax?.removeAttribute('aria-invalid');
    errorLine.textContent = '';
    statusLine.textContent = '';
    statusLine.classList.remove('success');
  }

  function setBusy(busy) {
    form.setAttribute('aria-busy', String(busy));
    submit.disabled = busy;
    submitLabel.textContent = busy ? 'Connecting…' : 'Connect key';
  }

  function friendly(status, data, retryAfter) {
    const code = data && typeof data.code === 'string' ? data.code : '';
    const serverMessage = data && typeof data.message === 'string' ? data.message : '';
    switch (code) {
      case 'key_invalid':
        return 'The provider rejected this key. Check that you copied all of it and that it is active.';
      case 'key_exists':
        return 'A key is already connected for this account. To replace it, the app needs to open a new form (with a connect token).';
      case 'rate_limited':
        return `Too many attempts. Try again in ${retryAfter || 'a few'} seconds.`;
      case 'unauthorized':
        return 'This form is not set up correctly: its publishable key is not valid.';
      case 'origin_not_allowed':
        return 'This form is not allowed on this website.';
      case 'connect_token_invalid':
        return 'This form has expired. Reload the page and try again.';
      case 'upstream_unreachable':
      case 'upstream_timeout':
        return 'The provider could not be reached to check the key. Try again in a moment.';
      default:
        if (serverMessage && status < 500) return serverMessage;
        return `Something went wrong (HTTP ${status}). Try again in a moment.`;
    }
  }

  // The cap field: nothing when it is empty (no cap), else the key owner's limit, or why not.
  function readCap() {
    if (!capMax) return {};
    const raw = capMax.value.trim();
    if (!raw && !capMax.validity.badInput) return {};
    const max = Number(raw);
    if (capMax.validity.badInput || !Number.isFinite(max) || max <= 0)
      return { error: 'Enter a spending cap above $0, or leave it empty for no cap.' };
    return { limits: [{ metric: 'cost_usd', window: capWindow.value, max }] };
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const MODELS_WAIT_MS = 20_000;

  // The listing follows the connect within seconds (the server reads it after answering);
  // ask until it is known, the server says it will not come, or MODELS_WAIT_MS have passed.
  async function showModels(keyId, connected, mine) {
    const deadline = Date.now() + MODELS_WAIT_MS;
    const query = new URLSearchParams({ keyId, refId: settings.refId });
    while (Date.now() < deadline) {
      await sleep(1000);
      if (mine !== attempt) return;
      let data;
      try {
        const res = await fetch(`/connect/embed/models?${query}`, {
          headers: { authorization: `Bearer ${settings.pk}` },
          credentials: 'omit',
          cache: 'no-store',
        });
        if (!res.ok) return;
        data = await res.json();
      } catch {
        return;
      }
      if (mine !== attempt) return;
      if (typeof data.models === 'number') {
        statusLine.textContent = `${connected} This key unlocks ${data.models} model${data.models === 1 ? '' : 's'}.`;
        return;
      }
      if (!data.pending) return;
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.disabled) return;
    clearMessages();
    const p = provider();
    const request = { provider: p, refId: settings.refId };
    const providerConfig = {};
    for (const input of inputs()) {
      const value = input.value.trim();
      const field = input.dataset.field;
      if (!value) {
        if (!input.required) continue;
        errorLine.textContent = `Enter your ${input.dataset.label}.`;
        input.focus();
        return;
      }
      if (field === 'providerKey') request.providerKey = value;
      else if (field.startsWith('providerConfig.')) providerConfig[field.slice('providerConfig.'.length)] = value;
    }
    if (Object.keys(providerConfig).length) request.providerConfig = providerConfig;
    if (connectToken) request.connectToken = connectToken;
    const cap = readCap();
    if (cap.error) {
      errorLine.textContent = cap.error;
      capMax.setAttribute('aria-invalid', 'true');
      capMax.focus();
      return;
    }
    if (cap.limits) request.limits = cap.limits;
    const mine = attempt;

    setBusy(true);
    statusLine.textContent = 'Connecting and checking the key…';
    let res;
    let data = null;
    try {
      res = await fetch('/v1/keys/connect', {
        method: 'POST',
        headers: { authorization: `Bearer ${settings.pk}`, 'content-type': 'application/json' },
        body: JSON.stringify(request),
        credentials: 'omit',
        cache: 'no-store',
      });
      data = await res.json().catch(() => null);
    } catch {
      setBusy(false);
      statusLine.textContent = '';
      const message = 'Could not reach the server. Check your connection and try again.';
      errorLine.textContent = message;
      post({ type: 'byo:error', message, statusCode: 0, code: 'network_error' });
      return;
    }
    setBusy(false);
    if (res.ok && data) {
      for (const input of inputs()) input.value = '';
      connectToken = ''; // single use
      statusLine.classList.add('success');
      const name = template(p)?.dataset.name || p;
      const connected = `Connected. Your ${name} key ${data.keyHint} is stored${data.updated ? ', replacing the previous one' : ''}.`;
      statusLine.textContent = connected;
      post({ type: 'byo:connected', id: data.id, provider: data.provider, refId: data.refId, status: data.status, updated: data.updated });
      showModels(data.id, connected, mine);
      return;
    }
    statusLine.textContent = '';
    const message = friendly(res.status, data, res.headers.get('retry-after'));
    errorLine.textContent = message;
    post({ type: 'byo:error', message, statusCode: res.status, code: data?.code || 'bad_response' });
    document.getElementById('byo-key')?.focus();
  }

  for (const radio of form.querySelectorAll('input[name="provider"]')) radio.addEventListener('change', onProviderChange);
  select?.addEventListener('change', onProviderChange);
  form.addEventListener('submit', onSubmit);
  onProviderChange();
  // Rendered disabled: until this script has taken over the form, a click must not submit it
  // natively (the key would be posted to this page instead of through fetch).
  submit.disabled = false;

  // Let the host element size the frame to the form.
  let lastHeight = 0;
  const reportHeight = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: 'byo:resize', height });
    }
  };
  new ResizeObserver(reportHeight).observe(body);
  post({ type: 'byo:ready' });
  reportHeight();
})();

// The page: puts BYO's connect form in place for the signed-in customer, then streams answers
// from this app's backend. The provider key is typed inside BYO's iframe; this script never
// sees it, and neither does the backend.
const status = document.getElementById('connect-status');
const keyList = document.getElementById('connected-keys');
const answer = document.getElementById('answer');
const form = document.getElementById('ask-form');
const button = document.getElementById('ask-button');

async function showKeys() {
  const res = await fetch('/api/keys');
  if (!res.ok) return;
  const { keys } = await res.json();
  const active = Object.entries(keys).filter(([, k]) => k.status === 'active');
  // Its own line, so the message of the last connect (in #connect-status) stays readable.
  keyList.textContent = active.length ? `Connected: ${active.map(([p, k]) => `${p} (${k.keyHint})`).join(', ')}` : '';
}

async function setUp() {
  const session = await (await fetch('/api/session')).json();
  const connect = document.createElement('byo-connect-form');
  connect.setAttribute('base-url', session.byoBaseURL);
  connect.setAttribute('publishable-key', session.publishableKey);
  connect.setAttribute('ref-id', session.refId);
  connect.setAttribute('providers', 'openai,anthropic,google');
  connect.addEventListener('byo:connected', (e) => {
    status.classList.remove('error');
    status.textContent = `Your ${e.detail.provider} key is connected.`;
    document.getElementById('provider').value = e.detail.provider;
    void showKeys();
  });
  connect.addEventListener('byo:error', (e) => {
    status.classList.add('error');
    status.textContent = e.detail.message;
  });
  document.getElementById('form-slot').append(connect);
  await showKeys();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  button.disabled = true;
  answer.classList.remove('error');
  answer.textContent = '';
  delete answer.dataset.done;
  try {
    const res = await fetch('/api/ask', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: data.get('question'), provider: data.get('provider') }),
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({ message: res.statusText }));
      answer.classList.add('error');
      answer.textContent = err.message;
      return;
    }
    // Append each piece as it arrives: the provider's stream, relayed by BYO and by our backend.
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      answer.textContent += value;
    }
    answer.dataset.done = 'true';
  } catch (err) {
    answer.classList.add('error');
    answer.textContent = `The request failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
});

setUp().catch((err) => {
  status.classList.add('error');
  status.textContent = `Could not load the session: ${err.message}`;
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ProxyEnv, startProxyEnv } from './support.js';

/**
 * Proof of whose key paid: every answer of a call for which BYO chose a stored key carries
 * `x-byo-key-id` and `x-byo-key-hint` (JSON, streams, the sandbox, BYO's own errors), and the
 * usage roll-ups keep the key id. BYO never falls back to another credential: a call whose
 * key is missing, disabled or revoked gets an error, and nothing reaches the provider.
 */
describe('proof of whose key paid', () => {
  let env: ProxyEnv;

  beforeAll(async () => {
    env = await startProxyEnv({ BYO_WEBHOOKS: 'false' });
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });

  const connect = async (refId: string, providerKey: string, sk = env.project.skLive) => {
    const res = await env.server.request('POST', '/v1/keys/connect', { key: sk, body: { provider: 'openai', refId, providerKey } });
    expect(res.status).toBe(200);
    return res.body as { id: string; keyHint: string };
  };
  const call = (
    refId: string,
    body: unknown = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    sk = env.project.skLive,
  ) =>
    fetch(`${env.proxyUrl('openai')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sk}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('a JSON answer names the stored key and its hint, and the SDK sees them', async () => {
    const key = await connect('proof_json', 'sk-proj-proofJson0000000000000wxyz');
    const { response } = await env
      .openai('proof_json')
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-byo-key-id')).toBe(key.id);
    expect(response.headers.get('x-byo-key-hint')).toBe('sk-proj-...wxyz');
    expect(key.keyHint).toBe('sk-proj-...wxyz');
  });

  it('a stream carries them in its headers', async () => {
    const key = await connect('proof_stream', 'sk-proj-proofStream00000000000stre');
    const res = await call('proof_stream', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-byo-key-id')).toBe(key.id);
    expect(res.headers.get('x-byo-key-hint')).toBe('sk-proj-...stre');
    await res.text();
  });

  it("an upstream's own x-byo-key-* headers never pass: the values are BYO's", async () => {
    const key = await connect('proof_spoof', 'sk-proj-proofSpoof000000000000spof');
    const remove = env.mock.intercept(
      { path: '/chat/completions', times: 1 },
      { status: 200, headers: { 'x-byo-key-id': 'key_forged', 'x-byo-key-hint': 'sk-...forg' }, json: { id: 'x', choices: [] } },
    );
    const res = await call('proof_spoof');
    remove();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-byo-key-id')).toBe(key.id);
    expect(res.headers.get('x-byo-key-hint')).toBe('sk-proj-...spof');
    await res.text();
  });

  it("the provider's error and BYO's own error once a key was chosen carry them too", async () => {
    const key = await connect('proof_errors', 'sk-proj-proofErrors00000000000erro');
    env.mock.intercept({ path: '/chat/completions', times: 1 }, { status: 429, json: { error: { message: 'slow down' } } });
    const limited = await call('proof_errors');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-byo-key-id')).toBe(key.id);
    await limited.text();

    // The provider hangs up before answering: BYO answers (502 upstream_unreachable) for this key.
    env.mock.intercept({ path: '/chat/completions', times: 1 }, (_req, res) => {
      res.socket?.destroy();
      return undefined;
    });
    const unreachable = await call('proof_errors');
    expect(unreachable.status).toBe(502);
    expect(unreachable.headers.get('x-byo-error-source')).toBe('byo');
    expect(unreachable.headers.get('x-byo-key-id')).toBe(key.id);
    expect(unreachable.headers.get('x-byo-key-hint')).toBe('sk-proj-...erro');
    await unreachable.text();
  });

  it('the sandbox answers with them', async () => {
    const key = await connect('proof_sandbox', 'sk-byo-test-valid', env.project.skTest);
    const res = await call('proof_sandbox', undefined, env.project.skTest);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-byo-sandbox')).toBe('true');
    expect(res.headers.get('x-byo-key-id')).toBe(key.id);
    expect(res.headers.get('x-byo-key-hint')).toBe(key.keyHint);
    await res.text();
  });

  it('right after a replace, the answer names the new key (its hint), and usage keeps the key id', async () => {
    const first = await connect('proof_replace', 'sk-proj-proofReplaceOld000000000old1');
    const before = await call('proof_replace');
    expect(before.headers.get('x-byo-key-hint')).toBe('sk-proj-...old1');
    await before.text();
    env.mock.reset();
    const second = await connect('proof_replace', 'sk-proj-proofReplaceNew000000000new2');
    const after = await call('proof_replace');
    // The stored key keeps its id for its provider and refId (the key a customer connected
    // there); the hint tells which secret it held when the call was made.
    expect(after.headers.get('x-byo-key-id')).toBe(second.id);
    expect(second.id).toBe(first.id);
    expect(after.headers.get('x-byo-key-hint')).toBe('sk-proj-...new2');
    await after.text();
    expect(env.mock.last()?.headers.authorization).toBe('Bearer sk-proj-proofReplaceNew000000000new2');

    const rows = await eventually(async () => {
      const r = await env.server.app.services.db
        .selectFrom('usage_records')
        .select(['key_id', 'requests'])
        .where('ref_id', '=', 'proof_replace')
        .execute();
      return r.reduce((n, x) => n + x.requests, 0) === 2 ? r : null;
    });
    expect(new Set(rows?.map((r) => r.key_id))).toEqual(new Set([first.id]));
  });

  describe('never another credential', () => {
    /** The call fails with `code`, names no key, and nothing reached the provider. */
    const refusedLocally = async (refId: string, status: number, code: string) => {
      const res = await call(refId);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      expect(res.headers.get('x-byo-key-id')).toBeNull();
      expect(env.mock.requests).toHaveLength(0);
    };

    it('a refId without a key gets key_not_found, no proof header, and nothing goes upstream', async () => {
      env.mock.reset();
      await connect('proof_other', 'sk-proj-proofOtherCustomer0000othr'); // another customer's key exists
      await refusedLocally('proof_nobody', 404, 'key_not_found');
    });

    it('a revoked key is not replaced by any other key, nor by the server operator’s', async () => {
      await connect('proof_revoked', 'sk-proj-proofRevoked00000000000revk');
      const revoke = await env.server.request('POST', '/v1/keys/revoke', {
        key: env.project.skLive,
        body: { provider: 'openai', refId: 'proof_revoked' },
      });
      expect(revoke.status).toBe(200);
      env.mock.reset();
      await refusedLocally('proof_revoked', 409, 'key_revoked');
    });

    it('a key the provider rejected is disabled; the next call fails instead of trying another key', async () => {
      await connect('proof_rejected', 'sk-proj-proofRejected0000000000rejc');
      env.mock.reset();
      env.mock.intercept({ path: '/chat/completions' }, { status: 401, json: { error: { message: 'Incorrect API key provided' } } });
      const rejected = await call('proof_rejected');
      expect(rejected.status).toBe(401);
      expect(rejected.headers.get('x-byo-key-hint')).toBe('sk-proj-...rejc');
      await rejected.text();
      await eventually(async () => {
        const r = await env.server.request('GET', '/v1/keys/openai/proof_rejected', { key: env.project.skLive });
        return r.body.status === 'disabled';
      });
      const next = await call('proof_rejected');
      expect(next.status).toBe(409);
      expect(((await next.json()) as { error: { code: string } }).error.code).toBe('key_disabled');
      // Every request that reached the provider carried the customer's own key, and only it.
      expect(env.mock.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-proj-proofRejected0000000000rejc']);
      env.mock.reset();
    });
  });
});

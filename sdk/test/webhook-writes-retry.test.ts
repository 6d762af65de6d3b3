import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BYOK, type BYOErrorCode, type KeyDisabledEvent, UnprocessableEntityError, type WebhookEvent } from '../src/index.js';
import { startTestServer, type TestProject, type TestServer } from './helpers/server.js';

/**
 * Webhook and connect-token writes through the SDK: a response lost on the way back is retried
 * with the same Idempotency-Key, and the server does the work once; `endpoints.test` sends a
 * sample of the chosen event type, which `webhooks.verify` returns typed.
 */

let receiver: Server;
let receiverUrl: string;
const received: { headers: IncomingHttpHeaders; raw: Buffer }[] = [];
let server: TestServer;
let project: TestProject;

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  server = await startTestServer({ BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1' });
  project = await server.createProject();
});
afterAll(async () => {
  await server?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

/** A fetch whose first response to each matching POST is lost after the server handled it. */
function losingFirstResponse(match: RegExp) {
  const seen: { url: string; idempotencyKey: string | null }[] = [];
  const lost = new Set<string>();
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const res = await fetch(input, init);
    if (init?.method !== 'POST' || !match.test(url)) return res;
    seen.push({ url, idempotencyKey: new Headers(init?.headers).get('idempotency-key') });
    if (!lost.has(url)) {
      lost.add(url);
      await res.arrayBuffer();
      throw new TypeError('fetch failed: socket hang up');
    }
    return res;
  };
  return { fetchImpl, seen };
}

describe('retried webhook writes happen once', () => {
  it('endpoints.create, rotateSecret, deliveries.redeliver and connectTokens.create', async () => {
    const { fetchImpl, seen } = losingFirstResponse(
      /\/v1\/(webhooks\/endpoints$|webhooks\/endpoints\/[^/]+\/rotate-secret|webhooks\/deliveries\/|connect-tokens)/,
    );
    const byok = new BYOK({ apiKey: project.skTest, baseURL: server.url, fetch: fetchImpl, maxRetries: 2 });

    const endpoint = await byok.webhooks.endpoints.create({ url: receiverUrl });
    const all = [];
    for await (const e of byok.webhooks.endpoints.list()) all.push(e);
    expect(all.map((e) => e.id)).toEqual([endpoint.id]);

    const rotated = await byok.webhooks.endpoints.rotateSecret(endpoint.id, { overlapSeconds: 0 });
    // Rotated once: the secret returned to the retry is the one that signs.
    const test = await byok.webhooks.endpoints.test(endpoint.id);
    expect(test.success).toBe(true);
    const last = received.at(-1);
    await expect(byok.webhooks.verify(last?.raw ?? '', last?.headers ?? {}, rotated.secret)).resolves.toMatchObject({
      type: 'webhook.test',
    });

    const redelivered = await byok.webhooks.deliveries.redeliver(test.delivery.id);
    expect(redelivered.id).toBe(test.delivery.id);

    const token = await byok.connectTokens.create({ refId: 'cust_retry' });
    expect(token.token).toMatch(/^byo_ct_/);

    // Each call was sent twice, with one key per call, the same on both attempts.
    expect(seen).toHaveLength(8);
    for (let i = 0; i < 8; i += 2) {
      expect(seen[i]?.idempotencyKey).toBeTruthy();
      expect(seen[i + 1]?.idempotencyKey).toBe(seen[i]?.idempotencyKey);
    }
    expect(new Set(seen.map((s) => s.idempotencyKey)).size).toBe(4);
  });

  it('a reused key with another body is a 422 UnprocessableEntityError with code idempotency_conflict', async () => {
    const byok = new BYOK({ apiKey: project.skTest, baseURL: server.url });
    await byok.connectTokens.create({ refId: 'a' }, { idempotencyKey: 'sdk-reuse-1' });
    const err = await byok.connectTokens.create({ refId: 'b' }, { idempotencyKey: 'sdk-reuse-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    const code: BYOErrorCode = 'idempotency_conflict';
    expect((err as UnprocessableEntityError).code).toBe(code);
    expect((err as UnprocessableEntityError).statusCode).toBe(422);
  });
});

describe('a write whose Idempotency-Key another request holds', () => {
  it("waits out 409 idempotency_in_progress (Retry-After) and gets that request's response", async () => {
    const statuses: number[] = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST') statuses.push(res.status);
      return res;
    };
    const byok = new BYOK({ apiKey: project.skTest, baseURL: server.url, fetch: fetchImpl });
    const body = { provider: 'openai' as const, refId: 'cust_held', providerKey: 'sk-held-000000000000000000000000' };
    const first = await byok.keys.connect(body, { idempotencyKey: 'sdk-held-1' });
    statuses.length = 0;

    // Make the key look claimed by a request still running (say on another instance)...
    const db = server.app.services.db;
    const row = db.updateTable('idempotency_keys').where('project_id', '=', project.id).where('key', '=', 'sdk-held-1');
    const stored = await db
      .selectFrom('idempotency_keys')
      .select('response')
      .where('project_id', '=', project.id)
      .where('key', '=', 'sdk-held-1')
      .executeTakeFirstOrThrow();
    await row.set({ status: 'in_progress', claim_id: 'another-request', response: null }).execute();
    const t0 = Date.now();
    const retried = byok.keys.connect(body, { idempotencyKey: 'sdk-held-1' });
    // ...which completes 300 ms later with the response it stored.
    await new Promise((r) => setTimeout(r, 300));
    await row.set({ status: 'completed', claim_id: null, response: JSON.stringify(stored.response) }).execute();

    expect(await retried).toEqual(first);
    expect(statuses).toEqual([409, 200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // Retry-After: 1
    const keys = await db
      .selectFrom('provider_keys')
      .select('id')
      .where('project_id', '=', project.id)
      .where('ref_id', '=', 'cust_held')
      .execute();
    expect(keys).toHaveLength(1);
  });
});

describe('endpoints.test with an event type', () => {
  it('sends a sample key.disabled event that verifies and is typed', async () => {
    const byok = new BYOK({ apiKey: project.skTest, baseURL: server.url });
    const endpoint = await byok.webhooks.endpoints.create({ url: receiverUrl, events: ['key.revoked'] });
    const result = await byok.webhooks.endpoints.test(endpoint.id, { event: 'key.disabled' });
    expect(result).toMatchObject({ success: true, statusCode: 200, delivery: { eventType: 'key.disabled' } });
    const hit = received.find((r) => JSON.parse(r.raw.toString('utf8')).id === result.eventId);
    const event: WebhookEvent = await byok.webhooks.verify(hit?.raw ?? '', hit?.headers ?? {}, endpoint.secret);
    expect(event.type).toBe('key.disabled');
    const disabled = event as KeyDisabledEvent;
    expect(disabled.data).toEqual({ provider: 'openai', refId: 'ref_test', keyHint: 'sk-...test', reason: expect.any(String) });
  });
});

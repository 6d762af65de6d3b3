import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, sseEvent, startMockUpstream } from '../helpers/mock-upstream.js';
import { dropSchema, startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { masterKey, persistentStorage } from '../secrets/helpers.js';

/**
 * One upstream response froze usage recording for everyone. Token counts
 * were taken from the provider unbounded into `integer` columns; one roll-up above 2^31 failed
 * its whole multi-row insert (SQLSTATE 22003), the batch was put back and retried forever, and
 * lost at shutdown. Now every count is validated (a non-negative integer up to 10^9, else
 * unknown and counted), the sums are `bigint`, and a row the database refuses is isolated and
 * dropped alone, with a metric and one log line.
 *
 * All calls of a test go into one batch: the flush interval is an hour, and GET /v1/usage
 * writes what is buffered before it reads.
 */

const PROVIDER_KEY = `sk-usage-overflow-${randomBytes(12).toString('hex')}`;
const storage = persistentStorage();
const serverEnv = (mock: MockUpstream) => ({
  ...mock.env,
  ...storage.env,
  BYO_MASTER_KEYS: KEYS,
  BYO_ADMIN_TOKEN: ADMIN,
  BYO_USAGE_FLUSH_INTERVAL: '1h',
  BYO_WEBHOOKS: 'false',
});
const KEYS = masterKey('k1');
const ADMIN = `admin_${randomBytes(24).toString('hex')}`;

let mock: MockUpstream;
let server: TestServer;
let project: TestProject;
const connected = new Set<string>();

beforeAll(async () => {
  mock = await startMockUpstream();
  // The upstream answers with the usage the test put in the request (`usageJson`, raw JSON text,
  // so that values JSON.stringify cannot write, like 1e999, can be sent too).
  mock.intercept(
    (req) => typeof (req.json as { usageJson?: unknown } | undefined)?.usageJson === 'string',
    (req) => {
      const body = req.json as { model: string; usageJson: string; stream?: boolean };
      const head = { id: 'chatcmpl-1', object: 'chat.completion', model: body.model };
      if (body.stream)
        return {
          headers: { 'content-type': 'text/event-stream' },
          events: [
            sseEvent({ ...head, choices: [{ index: 0, delta: { content: 'hi' } }] }),
            sseEvent(`{"id":"chatcmpl-1","model":${JSON.stringify(body.model)},"choices":[],"usage":${body.usageJson}}`),
            sseEvent('[DONE]'),
          ],
        };
      const choices = [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }];
      return {
        headers: { 'content-type': 'application/json' },
        body: `${JSON.stringify({ ...head, choices }).slice(0, -1)},"usage":${body.usageJson}}`,
      };
    },
  );
  server = await startTestServer(serverEnv(mock));
  project = await server.createProject();
}, 120_000);

afterAll(async () => {
  await server?.close();
  await mock?.close();
  if (usingPostgres && storage.env.BYO_DATABASE_SCHEMA) await dropSchema(storage.env.BYO_DATABASE_SCHEMA);
  storage.cleanup();
});

/** One proxied chat call for `refId` whose upstream reports `usage` (an object, or raw JSON text). */
async function call(refId: string, usage: unknown, opts: { model?: string; stream?: boolean } = {}): Promise<void> {
  if (!connected.has(refId)) {
    const r = await server.request('POST', '/v1/keys/connect', {
      key: project.skLive,
      body: { provider: 'openai', refId, providerKey: PROVIDER_KEY },
    });
    expect(r.status, r.text).toBe(200);
    connected.add(refId);
  }
  const res = await fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${project.skLive}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: opts.model ?? 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: opts.stream ?? false,
      usageJson: typeof usage === 'string' ? usage : JSON.stringify(usage),
    }),
  });
  await res.text();
  expect(res.status).toBe(200);
}

interface Row {
  refId: string;
  model: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** GET /v1/usage (which writes what is buffered first), by refId. */
async function usage(): Promise<{ rows: Map<string, Row>; totals: Record<string, number> }> {
  const res = await server.request('GET', '/v1/usage?limit=1000', { key: project.skLive });
  expect(res.status, res.text).toBe(200);
  const rows = new Map<string, Row>();
  for (const r of res.body.data as Row[]) {
    expect(rows.has(r.refId), `one row per refId (${r.refId})`).toBe(false);
    rows.set(r.refId, r);
  }
  return { rows, totals: res.body.totals };
}

async function metric(name: string, reason: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name}\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const tokens = (r: Row | undefined) => r && { requests: r.requests, input: r.inputTokens, output: r.outputTokens, total: r.totalTokens };

describe('usage recording survives hostile token counts', () => {
  it('huge, infinite, negative, fractional and string counts are recorded as unknown and counted; the other calls of the batch are written', async () => {
    await call('normal', { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    await call('huge', { prompt_tokens: 3_000_000_000, completion_tokens: 7, total_tokens: 3_000_000_007 });
    await call('infinite', '{"prompt_tokens": 1e999, "completion_tokens": 2, "total_tokens": 99999999999999999999999}');
    await call('negative', { prompt_tokens: -5, completion_tokens: 4, total_tokens: -1 });
    await call('fraction', { prompt_tokens: 2.5, completion_tokens: 3, total_tokens: 5.5 });
    await call('string', { prompt_tokens: '12', completion_tokens: '9007199254740993', total_tokens: '21' });
    await call('stream', { prompt_tokens: 2 ** 40, completion_tokens: 1, total_tokens: 2 ** 40 + 1 }, { stream: true });

    const { rows } = await usage();
    expect(tokens(rows.get('normal'))).toEqual({ requests: 1, input: 10, output: 5, total: 15 });
    // A rejected field is unknown (0 here); the total falls back to the fields that were counts.
    expect(tokens(rows.get('huge'))).toEqual({ requests: 1, input: 0, output: 7, total: 7 });
    expect(tokens(rows.get('infinite'))).toEqual({ requests: 1, input: 0, output: 2, total: 2 });
    expect(tokens(rows.get('negative'))).toEqual({ requests: 1, input: 0, output: 4, total: 4 });
    expect(tokens(rows.get('fraction'))).toEqual({ requests: 1, input: 0, output: 3, total: 3 });
    expect(tokens(rows.get('string'))).toEqual({ requests: 1, input: 0, output: 0, total: 0 });
    expect(tokens(rows.get('stream'))).toEqual({ requests: 1, input: 0, output: 1, total: 1 });

    const rejected = 'byo_usage_upstream_values_rejected_total';
    expect(await metric(rejected, 'too_large')).toBe(6);
    expect(await metric(rejected, 'negative')).toBe(2);
    expect(await metric(rejected, 'fractional')).toBe(2);
    expect(await metric(rejected, 'not_a_number')).toBe(3);
  });

  it('a roll-up whose sums pass 2^31 is written whole (bigint columns)', async () => {
    for (let i = 0; i < 3; i++) await call('big', { prompt_tokens: 900_000_000, completion_tokens: 1, total_tokens: 900_000_001 });
    await call('beside-big', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    const { rows, totals } = await usage();
    expect(tokens(rows.get('big'))).toEqual({ requests: 3, input: 2_700_000_000, output: 3, total: 2_700_000_003 });
    expect(tokens(rows.get('beside-big'))).toEqual({ requests: 1, input: 1, output: 1, total: 2 });
    expect(totals.inputTokens).toBeGreaterThan(2_700_000_000);
  });

  it('rows the database refuses (a constraint; a value too long) are dropped alone, with a metric and one log line; the rest of the batch is written', async () => {
    const { db } = server.app.services;
    // An operator's own rules stand in for any row the database refuses for its data.
    await sql`alter table usage_records add constraint usage_no_poison check (model is distinct from 'poison')`.execute(db);
    await sql`alter table usage_records alter column model type varchar(40)`.execute(db);
    try {
      const logsBefore = server.logs.length;
      await call('ok-1', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
      await call('poisoned', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, { model: 'poison' });
      await call('ok-2', { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
      await call('long-model', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, { model: 'm'.repeat(100) });
      await call('ok-3', { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });

      const { rows } = await usage();
      expect(tokens(rows.get('ok-1'))).toEqual({ requests: 1, input: 1, output: 1, total: 2 });
      expect(tokens(rows.get('ok-2'))).toEqual({ requests: 1, input: 2, output: 2, total: 4 });
      expect(tokens(rows.get('ok-3'))).toEqual({ requests: 1, input: 3, output: 3, total: 6 });
      expect(rows.has('poisoned')).toBe(false);
      expect(rows.has('long-model')).toBe(false);
      expect(await metric('byo_usage_rows_dropped_total', 'constraint')).toBe(1);
      expect(await metric('byo_usage_rows_dropped_total', 'invalid_data')).toBe(1);

      const lines = server.logs.slice(logsBefore).filter((l) => l.includes('refused usage records'));
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0] as string);
      expect(line).toMatchObject({ rows: 2, calls: 2 });
      expect(new Set(line.sqlstates)).toEqual(new Set(['23514', '22001']));
      expect(lines[0]).not.toContain(PROVIDER_KEY);
      expect(lines[0]).not.toContain(project.skLive);
      // Nothing is left behind to be retried.
      expect(server.app.services.flushUsage).toBeDefined();
      await call('after', { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 });
      expect(tokens((await usage()).rows.get('after'))).toEqual({ requests: 1, input: 1, output: 0, total: 1 });
      expect(server.logs.slice(logsBefore).filter((l) => l.includes('will retry'))).toEqual([]);
    } finally {
      await sql`alter table usage_records drop constraint usage_no_poison`.execute(db);
      await sql`alter table usage_records alter column model type text`.execute(db);
    }
  });

  it('what is buffered at a graceful shutdown is written, a refused row and a hostile count included', async () => {
    const { db } = server.app.services;
    await sql`alter table usage_records add constraint usage_no_poison check (model is distinct from 'poison')`.execute(db);
    await call('before-stop', { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
    await call('before-stop-huge', { prompt_tokens: 5_000_000_000, completion_tokens: 1, total_tokens: 1 });
    await call('before-stop-poison', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, { model: 'poison' });
    await server.close();
    server = await startTestServer(serverEnv(mock));
    await sql`alter table usage_records drop constraint usage_no_poison`.execute(server.app.services.db);
    const { rows } = await usage();
    expect(tokens(rows.get('before-stop'))).toEqual({ requests: 1, input: 4, output: 4, total: 8 });
    expect(tokens(rows.get('before-stop-huge'))).toEqual({ requests: 1, input: 0, output: 1, total: 1 });
    expect(rows.has('before-stop-poison')).toBe(false);
  });
});

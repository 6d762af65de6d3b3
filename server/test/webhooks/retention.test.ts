import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pruneWebhookHistory, RETENTION_LOCK_CLASS, RetentionPruner, retentionOf } from '../../src/webhooks/retention.js';
import { startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { Receiver } from './receiver.js';

vi.setConfig({ testTimeout: 60_000 });

const DAY = 86_400_000;
const receiver = new Receiver();
/** Default retention (30 days); its own pruner is stopped, the tests run `pruner` by hand. */
let server: TestServer;
let pruner: RetentionPruner;
/** Runs its pruner every 100 ms on its own, without a dispatcher (events are never fanned out). */
let periodic: TestServer;
/** BYO_EVENT_RETENTION_DAYS=0. */
let disabled: TestServer;

const common = { BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1', BYO_ALLOW_HTTP_UPSTREAMS: 'true', BYO_WEBHOOK_POLL_INTERVAL: '50ms' };

beforeAll(async () => {
  await receiver.start();
  [server, periodic, disabled] = await Promise.all([
    startTestServer(common),
    startTestServer({ ...common, BYO_WEBHOOKS: 'false', BYO_EVENT_RETENTION_INTERVAL: '100ms' }),
    startTestServer({ ...common, BYO_EVENT_RETENTION_DAYS: '0', BYO_EVENT_RETENTION_INTERVAL: '50ms' }),
  ]);
  await retentionOf(server.app.services)?.stop();
  pruner = new RetentionPruner(server.app.services, { retentionMs: 30 * DAY, intervalMs: 3_600_000, firstDelayMs: 0 });
}, 240_000);
afterAll(async () => {
  await Promise.all([server?.close(), periodic?.close(), disabled?.close()]);
  await receiver.stop();
});

const id = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
const ago = (days: number) => new Date(Date.now() - days * DAY);

async function projectWithEndpoint(s: TestServer): Promise<{ p: TestProject; endpointId: string }> {
  const p = await s.createProject();
  const res = await s.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: `${receiver.url}/${p.id}` } });
  expect(res.status, res.text).toBe(200);
  return { p, endpointId: res.body.id as string };
}

interface Delivery {
  status: 'pending' | 'succeeded' | 'failed';
  /** Days since the last change. */
  age: number;
  nextAttemptAt?: Date | null;
  lockedUntil?: Date | null;
}

/**
 * One fanned-out event `eventAge` days old and its deliveries to `endpointId`, as the dispatcher
 * leaves them, written in one statement (so a pruner run sees all of it or none).
 */
async function seed(
  s: TestServer,
  projectId: string,
  endpointIds: string[],
  eventAge: number,
  deliveries: Delivery[],
  opts: { fannedOut?: boolean } = {},
) {
  const eventId = id('evt');
  const ids = deliveries.map(() => id('wd'));
  const rows = deliveries.map((d, i) => ({
    id: ids[i] as string,
    event_id: eventId,
    endpoint_id: endpointIds[i] ?? (endpointIds[0] as string),
    project_id: projectId,
    mode: 'test' as const,
    event_type: 'key.connected',
    status: d.status,
    attempts: d.status === 'pending' ? 1 : 3,
    next_attempt_at: d.nextAttemptAt ?? null,
    locked_until: d.lockedUntil ?? null,
    delivered_at: d.status === 'succeeded' ? ago(d.age) : null,
    created_at: ago(Math.max(eventAge, d.age)),
    updated_at: ago(d.age),
  }));
  const db = s.app.services.db;
  const insertEvent = db.insertInto('events').values({
    id: eventId,
    project_id: projectId,
    mode: 'test',
    type: 'key.connected',
    data: JSON.stringify({ provider: 'openai', refId: 'r' }),
    created_at: ago(eventAge),
    fanned_out_at: opts.fannedOut === false ? null : ago(eventAge),
  });
  if (rows.length === 0) await insertEvent.execute();
  else await sql`with e as (${insertEvent.returning('id')}) ${db.insertInto('webhook_deliveries').values(rows)}`.execute(db);
  return { eventId, deliveryIds: ids };
}

/** `n` events `days` old, each with one succeeded delivery as old, in one statement. */
async function seedBulk(s: TestServer, projectId: string, endpointId: string, n: number, days: number, tag: string) {
  await sql`
    with e as (
      insert into events (id, project_id, mode, type, data, created_at, fanned_out_at)
      select 'evt_' || ${tag} || '_' || ${projectId} || '_' || g, ${projectId}, 'test', 'key.connected', '{}'::jsonb,
             now() - ${days} * interval '1 day', now() - ${days} * interval '1 day'
      from generate_series(1, ${n}) g
      returning id
    )
    insert into webhook_deliveries (id, event_id, endpoint_id, project_id, mode, event_type, status, attempts, created_at, updated_at, delivered_at)
    select 'wd_' || substr(id, 5), id, ${endpointId}, ${projectId}, 'test', 'key.connected', 'succeeded', 1,
           now() - ${days} * interval '1 day', now() - ${days} * interval '1 day', now() - ${days} * interval '1 day'
    from e`.execute(s.app.services.db);
}

const rowsOf = async (s: TestServer, table: 'events' | 'webhook_deliveries', projectId: string) => {
  const db = s.app.services.db;
  return Number(
    (await db.selectFrom(table).select(db.fn.countAll<string>().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow()).n,
  );
};

const eventExists = async (s: TestServer, eventId: string) =>
  Boolean(await s.app.services.db.selectFrom('events').select('id').where('id', '=', eventId).executeTakeFirst());
const deliveryExists = async (s: TestServer, deliveryId: string) =>
  Boolean(await s.app.services.db.selectFrom('webhook_deliveries').select('id').where('id', '=', deliveryId).executeTakeFirst());

describe('webhook history retention', () => {
  it('prunes finished deliveries and their events past the retention period, keeps everything still to be delivered', async () => {
    const { p, endpointId } = await projectWithEndpoint(server);
    const second = await server.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: `${receiver.url}/${p.id}/b` } });
    const endpoint2 = second.body.id as string;
    const soon = new Date(Date.now() + 3_600_000);

    const succeeded = await seed(server, p.id, [endpointId], 40, [{ status: 'succeeded', age: 40 }]);
    const failed = await seed(server, p.id, [endpointId], 40, [{ status: 'failed', age: 35 }]);
    const noEndpoint = await seed(server, p.id, [], 40, []);
    const retrying = await seed(server, p.id, [endpointId], 40, [{ status: 'pending', age: 39, nextAttemptAt: soon }]);
    const mixed = await seed(server, p.id, [endpointId, endpoint2], 40, [
      { status: 'succeeded', age: 40 },
      { status: 'pending', age: 39, nextAttemptAt: soon },
    ]);
    const inFlight = await seed(server, p.id, [endpointId], 40, [
      { status: 'pending', age: 39, nextAttemptAt: ago(39), lockedUntil: soon },
    ]);
    // A redelivery (or a late retry) 2 days ago makes the row recent again.
    const redelivered = await seed(server, p.id, [endpointId], 40, [{ status: 'succeeded', age: 2 }]);
    const recent = await seed(server, p.id, [endpointId], 29, [{ status: 'failed', age: 29 }]);
    const recentNoEndpoint = await seed(server, p.id, [], 29, []);
    // A test send interrupted by a crash: pending, no attempt scheduled, no lease.
    const abandoned = await seed(server, p.id, [endpointId], 40, [{ status: 'pending', age: 40, nextAttemptAt: null }]);

    const r = await pruner.runNow();
    expect(r.skipped).toBe(false);
    expect(r.deliveries).toBeGreaterThanOrEqual(4);
    expect(r.events).toBeGreaterThanOrEqual(4);

    for (const gone of [succeeded, failed, abandoned]) {
      expect(await eventExists(server, gone.eventId)).toBe(false);
      for (const d of gone.deliveryIds) expect(await deliveryExists(server, d)).toBe(false);
    }
    expect(await eventExists(server, noEndpoint.eventId)).toBe(false);

    for (const kept of [retrying, inFlight, redelivered, recent]) {
      expect(await eventExists(server, kept.eventId)).toBe(true);
      for (const d of kept.deliveryIds) expect(await deliveryExists(server, d)).toBe(true);
    }
    expect(await eventExists(server, recentNoEndpoint.eventId)).toBe(true);
    // The finished delivery of an event goes; the event stays while another delivery may still send it.
    expect(await deliveryExists(server, mixed.deliveryIds[0] as string)).toBe(false);
    expect(await deliveryExists(server, mixed.deliveryIds[1] as string)).toBe(true);
    expect(await eventExists(server, mixed.eventId)).toBe(true);
  });

  it('a pruned delivery answers 404 delivery_not_found on redelivery and is gone from the log; the audit log stays', async () => {
    const { p, endpointId } = await projectWithEndpoint(server);
    const db = server.app.services.db;
    const connect = await server.request('POST', '/v1/keys/connect', {
      key: p.skTest,
      body: { provider: 'openai', refId: 'cust_1', providerKey: 'sk-byo-test-valid' },
    });
    expect(connect.status, connect.text).toBe(200);
    let deliveryId = '';
    await vi.waitFor(
      async () => {
        const list = await server.request('GET', `/v1/webhooks/deliveries?endpointId=${endpointId}&status=succeeded`, { key: p.skTest });
        expect(list.body.data).toHaveLength(1);
        deliveryId = list.body.data[0].id;
      },
      { timeout: 20_000, interval: 50 },
    );
    const { event_id: eventId } = await db
      .selectFrom('webhook_deliveries')
      .select('event_id')
      .where('id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    // An audit entry far older than any retention period.
    await db
      .insertInto('audit_log')
      .values({ project_id: p.id, mode: 'test', actor: 'test', action: 'test.old', metadata: '{}', created_at: ago(400) })
      .execute();
    const auditBefore = await db
      .selectFrom('audit_log')
      .select(db.fn.countAll<string>().as('n'))
      .where('project_id', '=', p.id)
      .executeTakeFirstOrThrow();

    // 40 days pass.
    await db
      .updateTable('events')
      .set({ created_at: ago(40), fanned_out_at: ago(40) })
      .where('id', '=', eventId)
      .execute();
    await db
      .updateTable('webhook_deliveries')
      .set({ created_at: ago(40), updated_at: ago(40) })
      .where('id', '=', deliveryId)
      .execute();
    await pruner.runNow();

    const redeliver = await server.request('POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`, { key: p.skTest });
    expect(redeliver.status, redeliver.text).toBe(404);
    expect(redeliver.body.code).toBe('delivery_not_found');
    const list = await server.request('GET', `/v1/webhooks/deliveries?endpointId=${endpointId}`, { key: p.skTest });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    const byEvent = await server.request('GET', `/v1/webhooks/deliveries?eventId=${eventId}`, { key: p.skTest });
    expect(byEvent.status).toBe(200);
    expect(byEvent.body.data).toEqual([]);

    const auditAfter = await db
      .selectFrom('audit_log')
      .select(db.fn.countAll<string>().as('n'))
      .where('project_id', '=', p.id)
      .executeTakeFirstOrThrow();
    expect(Number(auditAfter.n)).toBe(Number(auditBefore.n));
    const old = await db.selectFrom('audit_log').select('id').where('project_id', '=', p.id).where('action', '=', 'test.old').execute();
    expect(old).toHaveLength(1);
  });

  it('deletes in batches of 1,000 until nothing old is left', async () => {
    const { p, endpointId } = await projectWithEndpoint(server);
    const db = server.app.services.db;
    const n = 2_500;
    // One statement: n old events, each with one succeeded delivery.
    await sql`
      with e as (
        insert into events (id, project_id, mode, type, data, created_at, fanned_out_at)
        select 'evt_bulk_' || ${p.id} || '_' || g, ${p.id}, 'test', 'key.connected', '{}'::jsonb,
               now() - interval '45 days', now() - interval '45 days'
        from generate_series(1, ${n}) g
        returning id
      )
      insert into webhook_deliveries (id, event_id, endpoint_id, project_id, mode, event_type, status, attempts, created_at, updated_at, delivered_at)
      select 'wd_bulk_' || substr(id, 10), id, ${endpointId}, ${p.id}, 'test', 'key.connected', 'succeeded', 1,
             now() - interval '45 days', now() - interval '45 days', now() - interval '45 days'
      from e`.execute(db);
    const count = async (table: 'events' | 'webhook_deliveries') =>
      Number(
        (await db.selectFrom(table).select(db.fn.countAll<string>().as('n')).where('project_id', '=', p.id).executeTakeFirstOrThrow()).n,
      );
    expect(await count('events')).toBe(n);
    expect(await count('webhook_deliveries')).toBe(n);

    const r = await pruner.runNow();
    expect(r.deliveries).toBeGreaterThanOrEqual(n);
    expect(r.events).toBeGreaterThanOrEqual(n);
    // At least three full or partial batches per table; no statement deleted more than one batch.
    expect(r.batches).toBeGreaterThanOrEqual(2 * Math.ceil(n / 1000));
    expect(await count('events')).toBe(0);
    expect(await count('webhook_deliveries')).toBe(0);
  });

  it.runIf(usingPostgres)('on PostgreSQL one instance prunes a schema at a time (advisory lock, never waited for)', async () => {
    const pg = (await import('pg')).default;
    const schema = server.app.services.config.BYO_DATABASE_SCHEMA as string;
    const other = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await other.connect();
    try {
      const { p, endpointId } = await projectWithEndpoint(server);
      const old = await seed(server, p.id, [endpointId], 40, [{ status: 'succeeded', age: 40 }]);
      await other.query('select pg_advisory_lock($1, hashtext($2))', [0x42594f52, schema]);
      const blocked = await pruner.runNow();
      expect(blocked).toEqual({ deliveries: 0, events: 0, idempotencyKeys: 0, batches: 0, skipped: true });
      expect(await eventExists(server, old.eventId)).toBe(true);
      await other.query('select pg_advisory_unlock($1, hashtext($2))', [0x42594f52, schema]);
      const r = await pruner.runNow();
      expect(r.skipped).toBe(false);
      expect(await eventExists(server, old.eventId)).toBe(false);
    } finally {
      await other.end();
    }
  });

  it.runIf(usingPostgres)(
    'on PostgreSQL two instances on one schema prune it together; no advisory lock outlives a batch, even a failed one',
    async () => {
      const pg = (await import('pg')).default;
      const schema = server.app.services.config.BYO_DATABASE_SCHEMA as string;
      const second = await startTestServer({ ...common, BYO_DATABASE_SCHEMA: schema });
      const other = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await other.connect();
      /** Advisory locks on this schema's pruning key, held by any session. */
      const locksHeld = async () =>
        (
          await other.query<{ n: number }>(
            `select count(*)::int as n from pg_locks
             where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
               and classid = $1::int::oid and objid = hashtext($2)::oid and objsubid = 2 and granted`,
            [RETENTION_LOCK_CLASS, schema],
          )
        ).rows[0]?.n;
      try {
        await retentionOf(second.app.services)?.stop();
        // The query finds the lock when a session holds it.
        await other.query('select pg_advisory_lock($1, hashtext($2))', [RETENTION_LOCK_CLASS, schema]);
        expect(await locksHeld()).toBe(1);
        await other.query('select pg_advisory_unlock($1, hashtext($2))', [RETENTION_LOCK_CLASS, schema]);
        expect(await locksHeld()).toBe(0);

        const { p, endpointId } = await projectWithEndpoint(server);
        const n = 1_200;
        await seedBulk(server, p.id, endpointId, n, 45, 'two');
        const opts = { retentionMs: 30 * DAY, batchSize: 100, pauseMs: 5 };
        const [a, b] = await Promise.all([pruneWebhookHistory(server.app.services, opts), pruneWebhookHistory(second.app.services, opts)]);
        expect(a.skipped && b.skipped).toBe(false);
        expect(a.deliveries + b.deliveries).toBeGreaterThanOrEqual(n);
        expect(a.events + b.events).toBeGreaterThanOrEqual(n);
        expect(await rowsOf(server, 'events', p.id)).toBe(0);
        expect(await rowsOf(server, 'webhook_deliveries', p.id)).toBe(0);
        expect(await locksHeld()).toBe(0);

        // A batch that fails: the lock went with its statement, and the other instance prunes next.
        await seedBulk(server, p.id, endpointId, 50, 45, 'fail');
        await other.query(`create function "${schema}".retention_test_refuse() returns trigger language plpgsql as $$
          begin raise exception 'retention test: delete refused'; end $$`);
        await other.query(`create trigger retention_test_refuse before delete on "${schema}".webhook_deliveries
          for each row execute function "${schema}".retention_test_refuse()`);
        try {
          await expect(pruneWebhookHistory(server.app.services, opts)).rejects.toThrow(/delete refused/);
          expect(await locksHeld()).toBe(0);
        } finally {
          await other.query(`drop trigger if exists retention_test_refuse on "${schema}".webhook_deliveries`);
          await other.query(`drop function if exists "${schema}".retention_test_refuse()`);
        }
        const after = await pruneWebhookHistory(second.app.services, opts);
        expect(after.skipped).toBe(false);
        expect(after.deliveries).toBeGreaterThanOrEqual(50);
        expect(await rowsOf(server, 'events', p.id)).toBe(0);
        expect(await locksHeld()).toBe(0);
        // And the first instance, whose batch failed, still prunes too.
        await seedBulk(server, p.id, endpointId, 10, 45, 'again');
        const again = await pruneWebhookHistory(server.app.services, opts);
        expect(again.skipped).toBe(false);
        expect(await rowsOf(server, 'events', p.id)).toBe(0);
        expect(await rowsOf(server, 'webhook_deliveries', p.id)).toBe(0);
      } finally {
        await other.end();
        await second.close();
      }
    },
  );

  it('runs on its own every BYO_EVENT_RETENTION_INTERVAL, also without a dispatcher; events never fanned out go after the retention period', async () => {
    const { p, endpointId } = await projectWithEndpoint(periodic);
    const old = await seed(periodic, p.id, [endpointId], 40, [{ status: 'failed', age: 40 }]);
    // BYO_WEBHOOKS=false on this server: nothing ever fans these out.
    const notFannedOut = await seed(periodic, p.id, [], 40, [], { fannedOut: false });
    const recentNotFannedOut = await seed(periodic, p.id, [], 29, [], { fannedOut: false });
    // Not a state BYO writes (fan-out creates deliveries and marks the event in one statement),
    // but the rule holds anyway: an event with a delivery still to be sent stays.
    const notFannedOutRetrying = await seed(
      periodic,
      p.id,
      [endpointId],
      40,
      [{ status: 'pending', age: 39, nextAttemptAt: new Date(Date.now() + 3_600_000) }],
      { fannedOut: false },
    );
    const runs = retentionOf(periodic.app.services)?.stats.runs ?? 0;
    await vi.waitFor(async () => expect(await eventExists(periodic, old.eventId)).toBe(false), { timeout: 10_000, interval: 50 });
    expect(await deliveryExists(periodic, old.deliveryIds[0] as string)).toBe(false);
    await vi.waitFor(async () => expect(await eventExists(periodic, notFannedOut.eventId)).toBe(false), { timeout: 10_000, interval: 50 });
    // Further full runs after that one keep the recent event (it may still be fanned out) and the retrying one.
    await vi.waitFor(() => expect(retentionOf(periodic.app.services)?.stats.runs).toBeGreaterThan(runs + 2), {
      timeout: 10_000,
      interval: 50,
    });
    expect(await eventExists(periodic, recentNotFannedOut.eventId)).toBe(true);
    expect(await eventExists(periodic, notFannedOutRetrying.eventId)).toBe(true);
    expect(await deliveryExists(periodic, notFannedOutRetrying.deliveryIds[0] as string)).toBe(true);
    const metrics = await periodic.request('GET', '/metrics');
    expect(metrics.text).toMatch(/byo_retention_deleted_rows_total\{table="events"\} [1-9]/);
  });

  it('BYO_EVENT_RETENTION_DAYS=0 keeps the history forever; idempotency keys still expire after 24 h', async () => {
    const { p, endpointId } = await projectWithEndpoint(disabled);
    const old = await seed(disabled, p.id, [endpointId], 4_000, [{ status: 'succeeded', age: 4_000 }]);
    const none = await seed(disabled, p.id, [], 4_000, []);
    const db = disabled.app.services.db;
    const idem = (key: string, hoursAgo: number) => ({
      project_id: p.id,
      mode: 'test' as const,
      key,
      operation: 'keys.connect',
      request_hash: 'h',
      response: JSON.stringify({}),
      status: 'completed' as const,
      created_at: new Date(Date.now() - hoursAgo * 3_600_000),
    });
    await db
      .insertInto('idempotency_keys')
      .values([idem('idem_expired', 25), idem('idem_live', 23)])
      .execute();
    // Several would-be intervals (50 ms) pass, then one more run for certain.
    await new Promise((r) => setTimeout(r, 300));
    await retentionOf(disabled.app.services)?.runNow();
    expect(await eventExists(disabled, old.eventId)).toBe(true);
    expect(await deliveryExists(disabled, old.deliveryIds[0] as string)).toBe(true);
    expect(await eventExists(disabled, none.eventId)).toBe(true);
    const keys = await db.selectFrom('idempotency_keys').select('key').where('project_id', '=', p.id).execute();
    expect(keys.map((k) => k.key)).toEqual(['idem_live']);
  });

  it('rejects a bad BYO_EVENT_RETENTION_DAYS with a message naming it', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ BYO_EVENT_RETENTION_DAYS: '-1' })).toThrow(/BYO_EVENT_RETENTION_DAYS/);
    expect(() => loadConfig({ BYO_EVENT_RETENTION_DAYS: 'thirty' })).toThrow(/BYO_EVENT_RETENTION_DAYS/);
    expect(() => loadConfig({ BYO_EVENT_RETENTION_INTERVAL: '0' })).toThrow(/BYO_EVENT_RETENTION_INTERVAL/);
    expect(loadConfig({}).BYO_EVENT_RETENTION_DAYS).toBe(30);
  });

  it('bounds BYO_EVENT_RETENTION_INTERVAL by the longest timer Node.js can set (2^31-1 ms)', async () => {
    const { ConfigError, loadConfig } = await import('../../src/config.js');
    for (const value of ['30d', '25d', '2147483648']) {
      let error: unknown;
      try {
        loadConfig({ BYO_EVENT_RETENTION_INTERVAL: value });
      } catch (err) {
        error = err;
      }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/BYO_EVENT_RETENTION_INTERVAL: must be at most 2147483647ms/);
    }
    expect(loadConfig({ BYO_EVENT_RETENTION_INTERVAL: '24d' }).BYO_EVENT_RETENTION_INTERVAL).toBe(24 * DAY);
    expect(loadConfig({ BYO_EVENT_RETENTION_INTERVAL: '2147483647' }).BYO_EVENT_RETENTION_INTERVAL).toBe(2 ** 31 - 1);
  });

  it('a pruner with an interval beyond the longest timer runs once, not back to back, and sets no overflowing timer', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    // The longest configurable interval, plus up to 10 % jitter, and far beyond it.
    const pruners = [2 ** 31 - 1, 30 * DAY].map(
      (intervalMs) => new RetentionPruner(server.app.services, { retentionMs: 30 * DAY, intervalMs, firstDelayMs: 0 }),
    );
    try {
      for (const p of pruners) p.start();
      await vi.waitFor(() => expect(pruners.every((p) => p.stats.runs === 1)).toBe(true), { timeout: 10_000, interval: 20 });
      // Overflowing timers would fire after 1 ms, again and again.
      await new Promise((r) => setTimeout(r, 500));
      expect(pruners.map((p) => p.stats.runs)).toEqual([1, 1]);
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await Promise.all(pruners.map((p) => p.stop()));
    }
  });
});

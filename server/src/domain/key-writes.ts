import { type RawBuilder, sql } from 'kysely';
import { randomId } from '../auth/key-format.js';
import type { Mode, ProviderKeyRow, ProviderName } from '../db/schema.js';
import type { Services } from '../services.js';
import type { Sealed } from '../vault/vault.js';

/**
 * The write of `connect`: a provider key row, its `key.connected` outbox event and its audit
 * row, in one statement (so all three commit together).
 *
 * Concurrent connects are written together: while a statement is in flight, new writes queue,
 * and the next statement carries all of them (up to MAX_BATCH). Under load this turns N round
 * trips, N statement plans and N commits into one, which is most of what a connect costs on a
 * machine where every system call is expensive; alone, a write goes out at once.
 */

export const META_COLUMNS = [
  'id',
  'project_id',
  'mode',
  'provider',
  'ref_id',
  'status',
  'key_hint',
  'base_url',
  'status_reason',
  'last_validated_at',
  'last_validation_result',
  'created_at',
  'updated_at',
] as const;
export type KeyMeta = Pick<ProviderKeyRow, (typeof META_COLUMNS)[number]>;

export interface KeyWrite {
  /** The row id the key was sealed for; an existing row of the refId is replaced only if it has this id. */
  id: string;
  projectId: string;
  mode: Mode;
  provider: ProviderName;
  refId: string;
  hint: string;
  baseUrl: string | null;
  sealed: Sealed;
  validatedAt: Date | null;
  validationResult: string | null;
  /** A publishable key without a connect token: never replaces an active key. */
  firstOnly: boolean;
  event: Record<string, unknown>;
  audit: { actor: string; ip: string | null; user_agent: string | null; metadata: Record<string, unknown> };
}

/** The written row, or null when the statement changed nothing (the refId has another row). */
export type KeyWriteResult = (KeyMeta & { inserted: boolean }) | null;

const MAX_BATCH = 64;

interface Pending {
  write: KeyWrite;
  resolve: (r: KeyWriteResult) => void;
  reject: (err: unknown) => void;
}

export class KeyWriteBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Statements and rows written, for tests and the benchmark. */
  readonly stats = { statements: 0, rows: 0 };

  /** Statements in flight at once: PostgreSQL runs them in parallel; PGlite runs one at a time anyway. */
  private readonly maxInFlight: number;

  constructor(private readonly s: Pick<Services, 'db' | 'storage'>) {
    this.maxInFlight = s.storage.kind === 'postgres' ? 4 : 1;
  }

  write(write: KeyWrite): Promise<KeyWriteResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // After the current I/O phase, so the requests parsed in it go out together.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  /** Up to MAX_BATCH writes of one kind (firstOnly or not), at most one per refId. */
  private take(): Pending[] {
    const first = this.queue[0] as Pending;
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const refs = new Set<string>();
    for (const p of this.queue) {
      const ref = `${p.write.projectId}|${p.write.mode}|${p.write.provider}|${p.write.refId}`;
      if (batch.length < MAX_BATCH && p.write.firstOnly === first.write.firstOnly && !refs.has(ref)) {
        refs.add(ref);
        batch.push(p);
      } else rest.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const rows = await this.execute(batch.map((p) => p.write));
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const p of batch) p.resolve(byId.get(p.write.id) ?? null);
    } catch (err) {
      if (batch.length === 1) {
        (batch[0] as Pending).reject(err);
        return;
      }
      // One bad row fails the statement: write each alone, so only that one fails.
      await Promise.all(
        batch.map(async (p) => {
          try {
            const [row] = await this.execute([p.write]);
            p.resolve(row ?? null);
          } catch (e) {
            p.reject(e);
          }
        }),
      );
    }
  }

  private async execute(writes: KeyWrite[]): Promise<(KeyMeta & { inserted: boolean })[]> {
    const now = new Date();
    const values = sql.join(writes.map(rowValues));
    const firstOnly = (writes[0] as KeyWrite).firstOnly;
    const { rows } = await sql<KeyMeta & { inserted: boolean }>`
      with input (id, project_id, mode, provider, ref_id, key_hint, base_url, ciphertext, wrapped_key, master_key_id,
          last_validated_at, last_validation_result, event_id, event_data, actor, ip, user_agent, metadata) as (
        values ${values}
      ), up as (
        insert into provider_keys (id, project_id, mode, provider, ref_id, status, key_hint, base_url, ciphertext, wrapped_key,
          master_key_id, status_reason, last_validated_at, last_validation_result, created_at, updated_at)
        select id, project_id, mode, provider, ref_id, 'active', key_hint, base_url, ciphertext, wrapped_key, master_key_id, null,
          last_validated_at, last_validation_result, ${now}::timestamptz, ${now}::timestamptz
        from input
        on conflict on constraint provider_keys_ref_uq do update set
          status = excluded.status, key_hint = excluded.key_hint, base_url = excluded.base_url, ciphertext = excluded.ciphertext,
          wrapped_key = excluded.wrapped_key, master_key_id = excluded.master_key_id, status_reason = null,
          last_validated_at = excluded.last_validated_at, last_validation_result = excluded.last_validation_result,
          updated_at = excluded.updated_at
        where provider_keys.id = excluded.id ${firstOnly ? sql`and provider_keys.status <> 'active'` : sql``}
        returning ${sql.join(META_COLUMNS.map((c) => sql.ref(c)))}, (xmax = 0) as inserted
      ), ev as (
        insert into events (id, project_id, mode, type, data)
        select input.event_id, up.project_id, up.mode, 'key.connected', input.event_data from up join input on input.id = up.id
      ), au as (
        insert into audit_log (project_id, mode, actor, action, target, ip, user_agent, metadata)
        select up.project_id, up.mode, input.actor, case when up.inserted then 'key.connected' else 'key.replaced' end, up.id,
          input.ip, input.user_agent, input.metadata
        from up join input on input.id = up.id
      )
      select * from up`.execute(this.s.db);
    this.stats.statements++;
    this.stats.rows += rows.length;
    return rows;
  }
}

function rowValues(w: KeyWrite): RawBuilder<unknown> {
  return sql`(${w.id}::text, ${w.projectId}::text, ${w.mode}::text, ${w.provider}::text, ${w.refId}::text, ${w.hint}::text,
    ${w.baseUrl}::text, ${w.sealed.ciphertext}::bytea, ${w.sealed.wrappedKey}::bytea, ${w.sealed.masterKeyId}::text,
    ${w.validatedAt}::timestamptz, ${w.validationResult}::text, ${randomId('evt')}::text,
    ${JSON.stringify(w.event)}::jsonb, ${w.audit.actor}::text, ${w.audit.ip}::text, ${w.audit.user_agent}::text,
    ${JSON.stringify(w.audit.metadata)}::jsonb)`;
}

const batchers = new WeakMap<object, KeyWriteBatcher>();

/** The batcher of this server (one per Services, created on first use). */
export function keyWriter(s: Pick<Services, 'db' | 'storage'>): KeyWriteBatcher {
  let b = batchers.get(s.db);
  if (!b) {
    b = new KeyWriteBatcher(s);
    batchers.set(s.db, b);
  }
  return b;
}

import { type RawBuilder, sql } from 'kysely';
import { randomId } from '../auth/api-key-format.js';
import type { Mode, ProviderKeyRow, ProviderName } from '../db/schema.js';
import type { EventData } from '../schemas/events.js';
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
  'provider_config',
  'status_reason',
  'last_validated_at',
  'last_validation_result',
  'last_validation_message',
  'models',
  'models_checked_at',
  'owner_limits',
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
  /** Provider settings (providerConfig's non-URL fields), or null. */
  settings?: Readonly<Record<string, string>> | null;
  /**
   * The key owner's cap as given (JSON of OwnerLimitsSchema; `[]` removes it), or null when the
   * connect gave none: a replaced key then keeps the cap its owner set.
   */
  ownerLimits?: string | null;
  sealed: Sealed;
  validatedAt: Date | null;
  validationResult: string | null;
  /** A publishable key without a connect token: only inserts; any existing row of the refId (whatever its status) wins. */
  firstOnly: boolean;
  /** The `key.connected` data; the statement adds `replaced` (whether the refId had a row). */
  event: Omit<EventData<'key.connected'>, 'replaced'>;
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

const refOf = (w: KeyWrite) => `${w.projectId}|${w.mode}|${w.provider}|${w.refId}`;

/**
 * SQLSTATE classes after which the statement is known to have been rolled back and one row is
 * to blame (22 data exception, 23 integrity constraint) or the statement was chosen as a
 * victim (40 transaction rollback: deadlock, serialization): each write can be retried alone.
 * After anything else (a lost connection, a timeout) the statement may have committed, so no
 * write is retried; each caller gets the error.
 */
function retryableAlone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|40)/.test(code);
}

export class KeyWriteBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  /** Refs of the writes in statements in flight: a second write for one waits for the first. */
  private readonly inFlightRefs = new Set<string>();
  private scheduled = false;
  /** Statements and rows written, for tests and the benchmark. */
  readonly stats = { statements: 0, rows: 0 };

  /** Statements in flight at once: PostgreSQL runs them in parallel; PGlite runs one at a time anyway. */
  private readonly maxInFlight: number;

  constructor(private readonly services: Pick<Services, 'db' | 'storage'>) {
    this.maxInFlight = services.storage.kind === 'postgres' ? 4 : 1;
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
      if (batch.length === 0) return; // every queued ref is in flight: the next completion reschedules
      const refs = batch.map((p) => refOf(p.write));
      for (const r of refs) this.inFlightRefs.add(r);
      this.inFlight++;
      void this.run(batch).finally(() => {
        for (const r of refs) this.inFlightRefs.delete(r);
        this.inFlight--;
        this.schedule();
      });
    }
  }

  /**
   * Up to MAX_BATCH writes of one kind (firstOnly or not), at most one per ref and none whose
   * ref is in a statement in flight, sorted by ref: concurrent statements then lock the rows
   * they share in the same order, so they cannot deadlock each other.
   */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const refs = new Set<string>();
    let firstOnly: boolean | null = null;
    for (const p of this.queue) {
      const ref = refOf(p.write);
      const fits =
        batch.length < MAX_BATCH &&
        !refs.has(ref) &&
        !this.inFlightRefs.has(ref) &&
        (firstOnly === null || p.write.firstOnly === firstOnly);
      if (fits) {
        firstOnly = p.write.firstOnly;
        refs.add(ref);
        batch.push(p);
      } else rest.push(p);
    }
    this.queue = rest;
    return batch.sort((a, b) => (refOf(a.write) < refOf(b.write) ? -1 : 1));
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const rows = await this.execute(batch.map((p) => p.write));
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const p of batch) p.resolve(byId.get(p.write.id) ?? null);
    } catch (err) {
      if (batch.length === 1 || !retryableAlone(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // The statement was rolled back because of one row (or as a deadlock victim): write each
      // alone, one after another in this statement's slot, so only a bad row fails.
      for (const p of batch) {
        try {
          const [row] = await this.execute([p.write]);
          p.resolve(row ?? null);
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }

  private async execute(writes: KeyWrite[]): Promise<(KeyMeta & { inserted: boolean })[]> {
    const now = new Date();
    const values = sql.join(writes.map(rowValues));
    const firstOnly = (writes[0] as KeyWrite).firstOnly;
    const { rows } = await sql<KeyMeta & { inserted: boolean }>`
      with input (id, project_id, mode, provider, ref_id, key_hint, base_url, provider_config, owner_limits, ciphertext, wrapped_key, master_key_id,
          last_validated_at, last_validation_result, event_id, event_data, actor, ip, user_agent, metadata) as (
        values ${values}
      ), up as (
        insert into provider_keys (id, project_id, mode, provider, ref_id, status, key_hint, base_url, provider_config, owner_limits, ciphertext,
          wrapped_key, master_key_id, status_reason, last_validated_at, last_validation_result, created_at, updated_at)
        select id, project_id, mode, provider, ref_id, 'active', key_hint, base_url, provider_config, owner_limits, ciphertext, wrapped_key,
          master_key_id, null,
          last_validated_at, last_validation_result, ${now}::timestamptz, ${now}::timestamptz
        from input
        on conflict on constraint provider_keys_ref_uq ${firstOnly ? sql`do nothing` : upsert}
        returning ${sql.join(META_COLUMNS.map((c) => sql.ref(c)))}, (xmax = 0) as inserted
      ), ev as (
        insert into events (id, project_id, mode, type, data)
        select input.event_id, up.project_id, up.mode, 'key.connected', input.event_data || jsonb_build_object('replaced', not up.inserted)
        from up join input on input.id = up.id
      ), au as (
        insert into audit_log (project_id, mode, actor, action, target, ip, user_agent, metadata)
        select up.project_id, up.mode, input.actor, case when up.inserted then 'key.connected' else 'key.replaced' end, up.id,
          input.ip, input.user_agent, input.metadata
        from up join input on input.id = up.id
      )
      select * from up`.execute(this.services.db);
    this.stats.statements++;
    this.stats.rows += rows.length;
    return rows;
  }
}

/**
 * Replaces the refId's row, only if it is the row the key was sealed for. A new key starts its
 * health afresh: no counts, and a first scheduled check placed anew (key-health/).
 */
const upsert = sql`do update set
  status = excluded.status, key_hint = excluded.key_hint, base_url = excluded.base_url, provider_config = excluded.provider_config,
  owner_limits = coalesce(excluded.owner_limits, provider_keys.owner_limits), ciphertext = excluded.ciphertext,
  wrapped_key = excluded.wrapped_key, master_key_id = excluded.master_key_id, status_reason = null,
  last_validated_at = excluded.last_validated_at, last_validation_result = excluded.last_validation_result,
  last_validation_message = null, next_check_at = null, invalid_checks = 0, unreachable_checks = 0,
  models = null, models_checked_at = null,
  updated_at = excluded.updated_at
  where provider_keys.id = excluded.id`;

function rowValues(w: KeyWrite): RawBuilder<unknown> {
  return sql`(${w.id}::text, ${w.projectId}::text, ${w.mode}::text, ${w.provider}::text, ${w.refId}::text, ${w.hint}::text,
    ${w.baseUrl}::text, ${w.settings ? JSON.stringify(w.settings) : null}::jsonb, ${w.ownerLimits ?? null}::text, ${w.sealed.ciphertext}::bytea, ${w.sealed.wrappedKey}::bytea, ${w.sealed.masterKeyId}::text,
    ${w.validatedAt}::timestamptz, ${w.validationResult}::text, ${randomId('evt')}::text,
    ${JSON.stringify(w.event)}::jsonb, ${w.audit.actor}::text, ${w.audit.ip}::text, ${w.audit.user_agent}::text,
    ${JSON.stringify(w.audit.metadata)}::jsonb)`;
}

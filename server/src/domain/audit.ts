import type { Kysely } from 'kysely';
import type { Database, Mode } from '../db/schema.js';

export interface Actor {
  /** e.g. `admin`, `api_key:ak_...`, `system` */
  actor: string;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
}

export interface AuditEntry {
  projectId: string | null;
  mode: Mode | null;
  action: string;
  target?: string | null;
  metadata?: Record<string, unknown>;
}

/** The row an audit entry becomes (also used by statements that write their audit row themselves). */
export function auditRow(who: Actor, entry: AuditEntry) {
  return {
    project_id: entry.projectId,
    mode: entry.mode,
    actor: who.actor,
    action: entry.action,
    target: entry.target ?? null,
    ip: who.ip ?? null,
    user_agent: who.userAgent ? who.userAgent.slice(0, 512) : null,
    metadata: JSON.stringify(entry.metadata ?? {}),
  };
}

/** One audit row per write; metadata must never hold a secret. */
export async function audit(db: Kysely<Database>, who: Actor, entry: AuditEntry): Promise<void> {
  await db.insertInto('audit_log').values(auditRow(who, entry)).execute();
}

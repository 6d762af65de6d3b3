import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { openStorage } from './database.js';
import { type Kysely, type Migration, type MigrationProvider, type MigrationResultSet, Migrator } from 'kysely';
import * as m0001 from './migrations/20261127_0001_init.js';
import * as m0100 from './migrations/20261127_0100_usage_requests.js';
import * as m0200 from './migrations/20261127_0200_event_retention.js';
import * as m0300 from './migrations/20261127_0300_idempotency_claims.js';
import * as m0400 from './migrations/20261127_0400_unfanned_event_retention.js';
import * as m0500 from './migrations/20261127_0500_idempotency_expiry.js';
import * as m20261207_0100 from './migrations/20261207_0100_usage_bigint.js';
import * as m20261207_0200 from './migrations/20261207_0200_idempotency_hash_keys.js';
import * as m20261207_0300 from './migrations/20261207_0300_webhook_in_flight.js';
import * as m20261208_0100 from './migrations/20261208_0100_provider_settings.js';
import * as m20261208_0200_health from './migrations/20261208_0200_key_health.js';
import * as m20261208_0200_models from './migrations/20261208_0200_key_models.js';
import * as m20261208_0200_usage from './migrations/20261208_0200_usage_key_id.js';
import * as m20261208_0300 from './migrations/20261208_0300_prices.js';
import * as m20261208_0310 from './migrations/20261208_0310_limits.js';
import * as m20261208_0320 from './migrations/20261208_0320_customers.js';
import * as m20261208_0400 from './migrations/20261208_0400_dashboard_sessions.js';
import * as m20261208_0410 from './migrations/20261208_0410_usage_daily.js';
import * as m20261208_0420 from './migrations/20261208_0420_key_counts.js';
import * as m20261208_0430 from './migrations/20261208_0430_provider_keys_ref_idx.js';
import * as m20261209_0100 from './migrations/20261209_0100_rate_limits.js';
import * as m20261209_0300 from './migrations/20261209_0300_key_counts_by_session.js';

/** Migrations are listed statically so the compiled server and tests see the same set. */
const migrations: Record<string, Migration> = {
  '20261127_0001_init': m0001,
  '20261127_0100_usage_requests': m0100,
  '20261127_0200_event_retention': m0200,
  '20261127_0300_idempotency_claims': m0300,
  '20261127_0400_unfanned_event_retention': m0400,
  '20261127_0500_idempotency_expiry': m0500,
  '20261207_0100_usage_bigint': m20261207_0100,
  '20261207_0200_idempotency_hash_keys': m20261207_0200,
  '20261207_0300_webhook_in_flight': m20261207_0300,
  '20261208_0100_provider_settings': m20261208_0100,
  '20261208_0200_key_health': m20261208_0200_health,
  '20261208_0200_key_models': m20261208_0200_models,
  '20261208_0200_usage_key_id': m20261208_0200_usage,
  '20261208_0300_prices': m20261208_0300,
  '20261208_0310_limits': m20261208_0310,
  '20261208_0320_customers': m20261208_0320,
  '20261208_0400_dashboard_sessions': m20261208_0400,
  '20261208_0410_usage_daily': m20261208_0410,
  '20261208_0420_key_counts': m20261208_0420,
  '20261208_0430_provider_keys_ref_idx': m20261208_0430,
  '20261209_0100_rate_limits': m20261209_0100,
  '20261209_0300_key_counts_by_session': m20261209_0300,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/**
 * `schema` names where kysely keeps its own migration tables. It must be explicit: without
 * it kysely's check "does kysely_migration exist?" matches that table in ANY schema of the
 * database, so a second server in another schema would skip creating its own and fail.
 */
export async function migrateToLatest(db: Kysely<any>, schema = 'public'): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new StaticProvider(), migrationTableSchema: schema });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}

/** Opens the configured database, applies the pending migrations, closes it (`byo-server migrate`, a cluster primary). */
export async function migrateConfigured(config: Config, logger: Logger): Promise<MigrationResultSet> {
  const storage = await openStorage({
    databaseUrl: config.DATABASE_URL,
    schema: config.BYO_DATABASE_SCHEMA,
    dataDir: config.BYO_DATA_DIR,
    memory: false,
    logger,
  });
  try {
    return await migrateToLatest(storage.db, config.BYO_DATABASE_SCHEMA);
  } finally {
    await storage.close();
  }
}

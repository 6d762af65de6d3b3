import { type Kysely, sql } from 'kysely';

/**
 * Cost. `price_overrides`: a project's own prices (per mode, like every other project setting a key writes), USD per million tokens, which
 * win over the built-in table (server/src/pricing/table.ts) for that provider and model id.
 * `usage_records.cost_usd`: the cost of the roll-up's calls; null when their model has no
 * price (unpriced, never $0), and on rows written before this column.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('price_overrides')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('input', 'double precision', (c) => c.notNull())
    .addColumn('output', 'double precision', (c) => c.notNull())
    .addColumn('cached_input', 'double precision')
    .addColumn('cache_write', 'double precision')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('price_overrides_pkey', ['project_id', 'mode', 'provider', 'model'])
    .execute();
  await db.schema.alterTable('usage_records').addColumn('cost_usd', 'numeric').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('usage_records').dropColumn('cost_usd').execute();
  await db.schema.dropTable('price_overrides').ifExists().execute();
}

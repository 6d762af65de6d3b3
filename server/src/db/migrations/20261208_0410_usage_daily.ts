import { type Kysely, sql } from 'kysely';

/**
 * Usage roll-ups the dashboard reads (docs/decisions/0028-usage-daily-roll-ups.md):
 * `usage_daily`, one row per project, mode, UTC day, provider and model; `usage_customers`, one
 * row per project, mode and refId with its first and last call; `usage_active_days`, how many
 * customers had their last call on each UTC day. A statement-level trigger on
 * `usage_records` folds each batch the usage writer inserts into them (set-based statements per
 * batch, keys in a fixed order so concurrent writers cannot deadlock), so the writer is
 * unchanged and nothing can forget to update them. Existing rows are backfilled here.
 * `cost_usd` sums the calls' costs (spend controls); null when none of them had a price.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('usage_daily')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addColumn('errors', 'bigint', (c) => c.notNull())
    .addColumn('input_tokens', 'bigint', (c) => c.notNull())
    .addColumn('output_tokens', 'bigint', (c) => c.notNull())
    .addColumn('total_tokens', 'bigint', (c) => c.notNull())
    .addColumn('latency_ms', 'bigint', (c) => c.notNull())
    .addColumn('cost_usd', 'numeric')
    .addPrimaryKeyConstraint('usage_daily_pkey', ['project_id', 'mode', 'day', 'provider', 'model'])
    .execute();
  await db.schema
    .createTable('usage_customers')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('ref_id', 'text', (c) => c.notNull())
    .addColumn('first_used_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_customers_pkey', ['project_id', 'mode', 'ref_id'])
    .execute();

  const daily = (from: string) => sql`
    insert into usage_daily (project_id, mode, day, provider, model, requests, errors, input_tokens, output_tokens, total_tokens, latency_ms, cost_usd)
    select project_id, mode, (created_at at time zone 'UTC')::date, provider, coalesce(model, ''),
           sum(requests), coalesce(sum(requests) filter (where status >= 400), 0),
           coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(total_tokens), 0), sum(latency_ms),
           sum(cost_usd)
      from ${sql.raw(from)} r
     group by 1, 2, 3, 4, 5
     order by 1, 2, 3, 4, 5
    on conflict (project_id, mode, day, provider, model) do update set
      requests = usage_daily.requests + excluded.requests,
      errors = usage_daily.errors + excluded.errors,
      input_tokens = usage_daily.input_tokens + excluded.input_tokens,
      output_tokens = usage_daily.output_tokens + excluded.output_tokens,
      total_tokens = usage_daily.total_tokens + excluded.total_tokens,
      latency_ms = usage_daily.latency_ms + excluded.latency_ms,
      cost_usd = case when usage_daily.cost_usd is null and excluded.cost_usd is null then null
                      else coalesce(usage_daily.cost_usd, 0) + coalesce(excluded.cost_usd, 0) end`;
  await db.schema
    .createTable('usage_active_days')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('customers', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_active_days_pkey', ['project_id', 'mode', 'day'])
    .execute();

  // usage_customers and usage_active_days move together: each customer is counted once, on the
  // UTC day of its last call, so "active since D" is a sum over at most a few hundred rows. The
  // rows of the batch's customers are created (as placeholders), then locked in key order, so a
  // concurrent writer's batch is seen whole before the day counts move.
  await sql`
    create function byo_usage_rollup() returns trigger language plpgsql as $fn$
    begin
      ${daily('new_rows')};
      insert into usage_customers (project_id, mode, ref_id, first_used_at, last_used_at)
        select distinct project_id, mode, ref_id, 'infinity'::timestamptz, '-infinity'::timestamptz from new_rows order by 1, 2, 3
        on conflict do nothing;
      perform 1 from usage_customers c join (select project_id, mode, ref_id, min(created_at) as f, max(created_at) as l from new_rows group by 1, 2, 3) b using (project_id, mode, ref_id)
        order by c.project_id, c.mode, c.ref_id for update of c;
      insert into usage_active_days (project_id, mode, day, customers)
        select project_id, mode, day, sum(d) from (
          select c.project_id, c.mode, (c.last_used_at at time zone 'UTC')::date as day, -1 as d
            from usage_customers c join (select project_id, mode, ref_id, min(created_at) as f, max(created_at) as l from new_rows group by 1, 2, 3) b using (project_id, mode, ref_id)
           where c.last_used_at > '-infinity' and b.l > c.last_used_at
             and (b.l at time zone 'UTC')::date <> (c.last_used_at at time zone 'UTC')::date
          union all
          select c.project_id, c.mode, (b.l at time zone 'UTC')::date, 1
            from usage_customers c join (select project_id, mode, ref_id, min(created_at) as f, max(created_at) as l from new_rows group by 1, 2, 3) b using (project_id, mode, ref_id)
           where b.l > c.last_used_at
             and (c.last_used_at = '-infinity' or (b.l at time zone 'UTC')::date <> (c.last_used_at at time zone 'UTC')::date)
        ) moves
        group by 1, 2, 3 order by 1, 2, 3
        on conflict (project_id, mode, day) do update set customers = usage_active_days.customers + excluded.customers;
      update usage_customers c set first_used_at = least(c.first_used_at, b.f), last_used_at = greatest(c.last_used_at, b.l)
        from (select project_id, mode, ref_id, min(created_at) as f, max(created_at) as l from new_rows group by 1, 2, 3) b
       where c.project_id = b.project_id and c.mode = b.mode and c.ref_id = b.ref_id;
      return null;
    end
    $fn$`.execute(db);
  await sql`
    create trigger usage_records_rollup after insert on usage_records
    referencing new table as new_rows for each statement execute function byo_usage_rollup()`.execute(db);
  await daily('usage_records').execute(db);
  await sql`
    insert into usage_customers (project_id, mode, ref_id, first_used_at, last_used_at)
    select project_id, mode, ref_id, min(created_at), max(created_at) from usage_records group by 1, 2, 3`.execute(db);
  await sql`
    insert into usage_active_days (project_id, mode, day, customers)
    select project_id, mode, (last_used_at at time zone 'UTC')::date, count(*) from usage_customers group by 1, 2, 3`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists usage_records_rollup on usage_records`.execute(db);
  await sql`drop function if exists byo_usage_rollup()`.execute(db);
  await db.schema.dropTable('usage_active_days').ifExists().execute();
  await db.schema.dropTable('usage_customers').ifExists().execute();
  await db.schema.dropTable('usage_daily').ifExists().execute();
}

import { type Kysely, sql } from 'kysely';

/**
 * Spend limits. `spend_limits`: a customer's limits (`ref_id`), or the project
 * default (`ref_id` = '*', which no refId can be), per project and mode, as a JSON array.
 * `provider_keys.owner_limits`: the key owner's cap, stored with the key at connect.
 * `limit_counters`: what each limit's window has used, one row per counter and window.
 *
 * `byo_limit_take` checks and charges every counter of one call in one statement, atomically:
 * it locks the call's counter rows (in the caller's key order, so concurrent calls cannot
 * deadlock), refuses the whole call if any would pass its max (charging nothing, and marking
 * the first refusal of the window), else adds every amount. It reports which counters crossed
 * their warning threshold for the first time in the window. `byo_limit_settle` moves
 * reservations to the real figures after the call. Row locks make both exact across
 * connections, workers and instances.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('spend_limits')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('ref_id', 'text', (c) => c.notNull())
    .addColumn('limits', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('spend_limits_pkey', ['project_id', 'mode', 'ref_id'])
    .execute();
  await db.schema.alterTable('provider_keys').addColumn('owner_limits', 'text').execute();
  await db.schema
    .createTable('limit_counters')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('window_end', 'timestamptz', (c) => c.notNull())
    .addColumn('used', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('warned_at', 'timestamptz')
    .addColumn('refused_at', 'timestamptz')
    .addPrimaryKeyConstraint('limit_counters_pkey', ['project_id', 'mode', 'key', 'window_start'])
    .execute();
  await db.schema.createIndex('limit_counters_end_idx').on('limit_counters').column('window_end').execute();

  await sql`
    create function byo_limit_take(p_project text, p_mode text, p_keys text[], p_starts timestamptz[], p_ends timestamptz[],
                                   p_amounts float8[], p_maxes float8[], p_warn float8[])
    returns table(refused int, used float8[], warned boolean[], first_refusal boolean)
    language plpgsql as $fn$
    declare
      n int := coalesce(array_length(p_keys, 1), 0);
      cur float8[] := '{}';
      w boolean[] := '{}';
      u float8;
      crossed boolean;
    begin
      for i in 1..n loop
        insert into limit_counters (project_id, mode, key, window_start, window_end, used)
          values (p_project, p_mode, p_keys[i], p_starts[i], p_ends[i], 0) on conflict do nothing;
        select c.used into u from limit_counters c
          where c.project_id = p_project and c.mode = p_mode and c.key = p_keys[i] and c.window_start = p_starts[i] for update;
        cur := cur || u;
      end loop;
      for i in 1..n loop
        if cur[i] + p_amounts[i] > p_maxes[i] then
          update limit_counters c set refused_at = now()
            where c.project_id = p_project and c.mode = p_mode and c.key = p_keys[i] and c.window_start = p_starts[i] and c.refused_at is null;
          return query select i, cur, w, found;
          return;
        end if;
      end loop;
      for i in 1..n loop
        crossed := cur[i] + p_amounts[i] >= p_warn[i] * p_maxes[i];
        update limit_counters c set used = c.used + p_amounts[i],
            warned_at = case when crossed and c.warned_at is null then now() else c.warned_at end
          where c.project_id = p_project and c.mode = p_mode and c.key = p_keys[i] and c.window_start = p_starts[i]
          returning crossed and c.warned_at = now() into crossed;
        w := w || coalesce(crossed, false);
        cur[i] := cur[i] + p_amounts[i];
      end loop;
      return query select 0, cur, w, false;
    end
    $fn$`.execute(db);

  await sql`
    create function byo_limit_settle(p_project text, p_mode text, p_keys text[], p_starts timestamptz[], p_deltas float8[],
                                     p_maxes float8[], p_warn float8[])
    returns boolean[]
    language plpgsql as $fn$
    declare
      n int := coalesce(array_length(p_keys, 1), 0);
      w boolean[] := '{}';
      crossed boolean;
    begin
      for i in 1..n loop
        update limit_counters c set used = greatest(0, c.used + p_deltas[i]),
            warned_at = case when c.warned_at is null and greatest(0, c.used + p_deltas[i]) >= p_warn[i] * p_maxes[i] then now() else c.warned_at end
          where c.project_id = p_project and c.mode = p_mode and c.key = p_keys[i] and c.window_start = p_starts[i]
          returning c.warned_at = now() and p_deltas[i] > 0 and c.used >= p_warn[i] * p_maxes[i] into crossed;
        w := w || coalesce(crossed, false);
      end loop;
      return w;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists byo_limit_settle(text, text, text[], timestamptz[], float8[], float8[], float8[])`.execute(db);
  await sql`drop function if exists byo_limit_take(text, text, text[], timestamptz[], timestamptz[], float8[], float8[], float8[])`.execute(
    db,
  );
  await db.schema.dropTable('limit_counters').ifExists().execute();
  await db.schema.alterTable('provider_keys').dropColumn('owner_limits').execute();
  await db.schema.dropTable('spend_limits').ifExists().execute();
}

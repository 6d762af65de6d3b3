import { type Kysely, sql } from 'kysely';

/**
 * The key-count trigger picks its shard by database session instead of by refId. By refId, one
 * batched connect statement (up to 64 keys) touched most of the 8 shard rows in no fixed order,
 * so concurrent statements locked them in different orders and deadlocked: PostgreSQL broke each
 * deadlock after deadlock_timeout (1 s), and connects fell from about 1,800/s to 535/s with a p99
 * of a second. By session (its backend pid modulo 8), a statement updates one shard row, so it
 * holds at most one lock another connect statement may want and no cycle can form; statements
 * on sessions with different shards do not wait for each other at all. A read sums the shards,
 * so any shard may hold any project's counts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
create or replace function byo_provider_key_counts() returns trigger language plpgsql as $fn$
    declare
      k record;
      was text;
      now_is text;
      d_active int;
      after_active int;
      d_customers int := 0;
    begin
      if tg_op = 'DELETE' then k := old; else k := new; end if;
      was := case when tg_op in ('UPDATE', 'DELETE') then old.status end;
      now_is := case when tg_op in ('INSERT', 'UPDATE') then new.status end;
      if was is not distinct from now_is then return null; end if;
      d_active := coalesce((now_is = 'active')::int, 0) - coalesce((was = 'active')::int, 0);
      if d_active <> 0 then
        insert into customer_keys (project_id, mode, ref_id, active) values (k.project_id, k.mode, k.ref_id, 0) on conflict do nothing;
        update customer_keys set active = active + d_active
         where project_id = k.project_id and mode = k.mode and ref_id = k.ref_id
        returning active into after_active;
        d_customers := (after_active > 0)::int - (after_active - d_active > 0)::int;
      end if;
      insert into provider_key_counts (project_id, mode, shard, active, disabled, revoked, customers)
      values (k.project_id, k.mode, pg_backend_pid() % 8, d_active,
              coalesce((now_is = 'disabled')::int, 0) - coalesce((was = 'disabled')::int, 0),
              coalesce((now_is = 'revoked')::int, 0) - coalesce((was = 'revoked')::int, 0),
              d_customers)
      on conflict (project_id, mode, shard) do update set
        active = provider_key_counts.active + excluded.active,
        disabled = provider_key_counts.disabled + excluded.disabled,
        revoked = provider_key_counts.revoked + excluded.revoked,
        customers = provider_key_counts.customers + excluded.customers;
      return null;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
create or replace function byo_provider_key_counts() returns trigger language plpgsql as $fn$
    declare
      k record;
      was text;
      now_is text;
      d_active int;
      after_active int;
      d_customers int := 0;
    begin
      if tg_op = 'DELETE' then k := old; else k := new; end if;
      was := case when tg_op in ('UPDATE', 'DELETE') then old.status end;
      now_is := case when tg_op in ('INSERT', 'UPDATE') then new.status end;
      if was is not distinct from now_is then return null; end if;
      d_active := coalesce((now_is = 'active')::int, 0) - coalesce((was = 'active')::int, 0);
      if d_active <> 0 then
        insert into customer_keys (project_id, mode, ref_id, active) values (k.project_id, k.mode, k.ref_id, 0) on conflict do nothing;
        update customer_keys set active = active + d_active
         where project_id = k.project_id and mode = k.mode and ref_id = k.ref_id
        returning active into after_active;
        d_customers := (after_active > 0)::int - (after_active - d_active > 0)::int;
      end if;
      insert into provider_key_counts (project_id, mode, shard, active, disabled, revoked, customers)
      values (k.project_id, k.mode, abs(hashtext(k.ref_id)) % 8, d_active,
              coalesce((now_is = 'disabled')::int, 0) - coalesce((was = 'disabled')::int, 0),
              coalesce((now_is = 'revoked')::int, 0) - coalesce((was = 'revoked')::int, 0),
              d_customers)
      on conflict (project_id, mode, shard) do update set
        active = provider_key_counts.active + excluded.active,
        disabled = provider_key_counts.disabled + excluded.disabled,
        revoked = provider_key_counts.revoked + excluded.revoked,
        customers = provider_key_counts.customers + excluded.customers;
      return null;
    end
    $fn$`.execute(db);
}

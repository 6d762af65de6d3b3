import { type Kysely, sql } from 'kysely';

/**
 * Counts of stored keys the dashboard's overview reads (decision 0028), kept by a
 * trigger on provider_keys instead of counted per render (counting 100,000 keys took 100-200 ms):
 * `customer_keys`, each customer's number of active keys; `provider_key_counts`, per project and
 * mode, keys by status and customers with at least one active key. The project counters are
 * split into 8 shards (by refId), so concurrent connects in one project rarely wait on the same
 * row; a read sums the shards. A customer's row is updated under its row lock, so its count
 * before the change is exact and the connected-customers counter moves only on 0 <-> 1.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customer_keys')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('ref_id', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_keys_pkey', ['project_id', 'mode', 'ref_id'])
    .execute();
  await db.schema
    .createTable('provider_key_counts')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('shard', 'smallint', (c) => c.notNull())
    .addColumn('active', 'bigint', (c) => c.notNull())
    .addColumn('disabled', 'bigint', (c) => c.notNull())
    .addColumn('revoked', 'bigint', (c) => c.notNull())
    .addColumn('customers', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('provider_key_counts_pkey', ['project_id', 'mode', 'shard'])
    .execute();

  await sql`
    create function byo_provider_key_counts() returns trigger language plpgsql as $fn$
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
  await sql`
    create trigger provider_keys_counts after insert or update of status or delete on provider_keys
    for each row execute function byo_provider_key_counts()`.execute(db);
  await sql`
    insert into customer_keys (project_id, mode, ref_id, active)
    select project_id, mode, ref_id, count(*) filter (where status = 'active') from provider_keys group by 1, 2, 3`.execute(db);
  await sql`
    insert into provider_key_counts (project_id, mode, shard, active, disabled, revoked, customers)
    select k.project_id, k.mode, abs(hashtext(k.ref_id)) % 8,
           count(*) filter (where status = 'active'), count(*) filter (where status = 'disabled'),
           count(*) filter (where status = 'revoked'), 0
      from provider_keys k group by 1, 2, 3`.execute(db);
  await sql`
    update provider_key_counts p set customers = c.n
      from (select project_id, mode, abs(hashtext(ref_id)) % 8 as shard, count(*) as n from customer_keys where active > 0 group by 1, 2, 3) c
     where p.project_id = c.project_id and p.mode = c.mode and p.shard = c.shard`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists provider_keys_counts on provider_keys`.execute(db);
  await sql`drop function if exists byo_provider_key_counts()`.execute(db);
  await db.schema.dropTable('provider_key_counts').ifExists().execute();
  await db.schema.dropTable('customer_keys').ifExists().execute();
}

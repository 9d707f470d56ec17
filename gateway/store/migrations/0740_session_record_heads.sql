-- Issue #14 (performance): a write of one record touches one `session_records` partition, not all of them.
--
-- `session_records` is partitioned by `expires_at`; `session_record_put` (migration 0645) found the record's
-- latest row and closed its current row by `record_key` alone, so each of its two statements probed the
-- (record_key, expires_at) index of every day partition (~25). `session_record_heads` holds, per record key,
-- the `expires_at` of its latest row: the partition key, so the function's statements are pruned to the one
-- partition that holds the record's rows. It is maintained by `session_record_put` only, in the same
-- transaction as the row it describes, under the record's advisory lock: the other writers (`end`,
-- `consume`, `revoke` in durable-tier.ts) insert the successor row with the closed row's `expires_at`, so
-- the head stays right.
--
-- Every guarantee of 0645 is kept: one current row per record key (the advisory lock serialises the writers
-- of a key; the current row is closed before the new one is inserted), a revoked session is never written
-- again (the write is dropped and the revoked row answered), and a session keeps its `created_at` and
-- version. Rows written before this migration are read as before (the heads are filled from them here,
-- while the table is locked against writers).
create table session_record_heads (
  record_key bytea primary key,
  -- the `expires_at` of the record's latest row in `session_records` (so, its partition)
  expires_at timestamptz not null
);

lock table session_records in share row exclusive mode;
insert into session_record_heads (record_key, expires_at)
select distinct on (record_key) record_key, expires_at from session_records order by record_key, valid_from desc;

create or replace function session_record_put(
  p_record_key bytea, p_kind text, p_lookup_key bytea, p_sid_keys bytea[], p_grant_key bytea,
  p_account_key bytea, p_idp text, p_version integer, p_state text, p_dek_version integer, p_sealed text,
  p_created_at timestamptz, p_expires_at timestamptz)
returns table (record_key bytea, kind text, lookup_key bytea, sid_keys bytea[], grant_key bytea,
  account_key bytea, idp text, version integer, state text, dek_version integer, sealed text,
  created_at timestamptz, expires_at timestamptz)
language plpgsql as $$
#variable_conflict use_column
declare
  latest session_records%rowtype;
  head timestamptz;
begin
  perform pg_advisory_xact_lock(hashtextextended(encode(p_record_key, 'hex'), 0));
  select h.expires_at into head from session_record_heads h where h.record_key = p_record_key;
  if found then
    if p_kind = 'Session' then
      select * into latest from session_records r where r.record_key = p_record_key and r.expires_at = head
        order by r.valid_from desc limit 1;
      if found then
        if latest.state = 'revoked' then
          return query select latest.record_key, latest.kind, latest.lookup_key, latest.sid_keys, latest.grant_key,
            latest.account_key, latest.idp, latest.version, latest.state, latest.dek_version, latest.sealed,
            latest.created_at, latest.expires_at;
          return;
        end if;
        p_version := latest.version;
        p_created_at := latest.created_at;
      end if;
    end if;
    update session_records r set valid_to = clock_timestamp()
      where r.record_key = p_record_key and r.expires_at = head and r.valid_to is null;
  end if;
  -- an upsert, not an update: `session_records_maintain` may have deleted the head of a long-expired record
  -- since it was read (it never deletes a head whose rows remain)
  if head is distinct from p_expires_at then
    insert into session_record_heads as h (record_key, expires_at) values (p_record_key, p_expires_at)
      on conflict on constraint session_record_heads_pkey do update set expires_at = excluded.expires_at;
  end if;
  insert into session_records (record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version,
    state, dek_version, sealed, created_at, expires_at)
  values (p_record_key, p_kind, p_lookup_key, p_sid_keys, p_grant_key, p_account_key, p_idp, p_version,
    p_state, p_dek_version, p_sealed, p_created_at, p_expires_at);
  return query select p_record_key, p_kind, p_lookup_key, p_sid_keys, p_grant_key, p_account_key, p_idp,
    p_version, p_state, p_dek_version, p_sealed, p_created_at, p_expires_at;
end;
$$;

-- `session_records_maintain` of 0620, plus: the heads whose rows are all gone (their partition dropped, or
-- deleted from the default partition) are deleted with them. A head is deleted only when no row remains at
-- its `expires_at`, so a record that still has rows keeps its head (and its single current row).
create or replace function session_records_maintain(p_now timestamptz, p_ahead interval, p_keep interval)
returns setof text language plpgsql as $$
declare
  day date;
  part text;
  upper_bound date;
begin
  perform pg_advisory_xact_lock(hashtext('gw-session-partitions'));
  day := (p_now at time zone 'UTC')::date - 1;
  while day <= ((p_now + p_ahead) at time zone 'UTC')::date loop
    part := 'session_records_' || to_char(day, 'YYYYMMDD');
    if to_regclass(part) is null
       and not exists (select 1 from session_records_default
                       where expires_at >= (day::timestamp at time zone 'UTC')
                         and expires_at < ((day + 1)::timestamp at time zone 'UTC')) then
      execute format('create table %I partition of session_records for values from (%L) to (%L)',
        part, day::timestamp at time zone 'UTC', (day + 1)::timestamp at time zone 'UTC');
    end if;
    day := day + 1;
  end loop;
  for part in
    select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'session_records'::regclass and c.relname ~ '^session_records_[0-9]{8}$'
  loop
    upper_bound := to_date(substr(part, 17), 'YYYYMMDD') + 1;
    if (upper_bound::timestamp at time zone 'UTC') < p_now - p_keep then
      execute format('drop table %I', part);
      return next part;
    end if;
  end loop;
  delete from session_records_default where expires_at < p_now - p_keep;
  delete from session_record_heads h where h.expires_at < p_now - p_keep
    and not exists (select 1 from session_records r where r.record_key = h.record_key and r.expires_at = h.expires_at);
end;
$$;

-- Issue #14 (performance): ending, revoking and listing the artefacts of a grant touch the partitions that hold
-- the rows, not every day partition of `session_records`.
--
-- `session_end` (`record_key = any($1)`), the revocation of one session (`record_key = $1`) and `keysOfGrant`
-- (`grant_key = $1`) filtered on columns that are not the partition key (`expires_at`), so each probed an index
-- of every day partition (~19-25 of them). The first two now join the record's head (migration 0740: the
-- `expires_at` of its latest row, the only one that can be current) on `expires_at`, and PostgreSQL prunes
-- the partitions at run time to the one that holds each record (durable-tier.ts). For the third, the head
-- now also carries the record's `grant_key` (indexed, not partitioned): a grant's artefacts are found in
-- `session_record_heads`, and each one's current row is checked in its one partition.
--
-- The heads stay right for every writer, old code included (a rolling upgrade): only `session_record_put`
-- (replaced here, in the database) moves a record to another partition or names its grant; `end`, `consume`
-- and `revoke`, old and new, insert a successor row with the closed row's `expires_at` and `grant_key`. The
-- grant keys of the records written before this migration are filled here from their latest rows, while the
-- table is locked against writers (this file runs in one transaction with its replacement of the function).
alter table session_record_heads add column grant_key bytea;
create index session_record_heads_grant on session_record_heads (grant_key) where grant_key is not null;

lock table session_records in share row exclusive mode;
update session_record_heads h set grant_key = r.grant_key
from session_records r
where r.record_key = h.record_key and r.expires_at = h.expires_at and r.grant_key is not null;

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
  head_grant bytea;
begin
  perform pg_advisory_xact_lock(hashtextextended(encode(p_record_key, 'hex'), 0));
  select h.expires_at, h.grant_key into head, head_grant from session_record_heads h where h.record_key = p_record_key;
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
  -- since it was read (it never deletes a head whose rows remain); the grant is written with the partition
  if head is distinct from p_expires_at or head_grant is distinct from p_grant_key then
    insert into session_record_heads as h (record_key, expires_at, grant_key) values (p_record_key, p_expires_at, p_grant_key)
      on conflict on constraint session_record_heads_pkey
      do update set expires_at = excluded.expires_at, grant_key = excluded.grant_key;
  end if;
  insert into session_records (record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version,
    state, dek_version, sealed, created_at, expires_at)
  values (p_record_key, p_kind, p_lookup_key, p_sid_keys, p_grant_key, p_account_key, p_idp, p_version,
    p_state, p_dek_version, p_sealed, p_created_at, p_expires_at);
  return query select p_record_key, p_kind, p_lookup_key, p_sid_keys, p_grant_key, p_account_key, p_idp,
    p_version, p_state, p_dek_version, p_sealed, p_created_at, p_expires_at;
end;
$$;

-- `DurableTier.end`: closes the current rows of the records `p_keys` (a session is kept as `ended`, its
-- version kept), each in its head's partition. One statement per record, with its partition key as a
-- parameter: pruned whatever the planner thinks of the join (a join of the heads with `session_records`
-- was pruned at run time only under a nested loop, which the statistics decide). Each record's head is read
-- under its advisory lock, the one `session_record_put` takes: a write moving the record to another
-- partition is either wholly before the end or wholly after it. Keys in order (as `putMany` takes them): two
-- ends of the same records never wait on each other crosswise. The generic plan is forced: its partitions
-- are pruned when it starts, and it is planned once per connection (the planner prices a generic plan over
-- every partition, so by default it re-plans each call: 0.5 against 0.2 ms for three records, measured).
create function session_records_end(p_keys bytea[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan as $$
declare
  key bytea;
  head timestamptz;
begin
  for key in select distinct k from unnest(p_keys) k order by k loop
    perform pg_advisory_xact_lock(hashtextextended(encode(key, 'hex'), 0));
    select h.expires_at into head from session_record_heads h where h.record_key = key;
    continue when not found;
    with closed as (
      update session_records r set valid_to = clock_timestamp()
      where r.record_key = key and r.expires_at = head and r.valid_to is null
      returning r.record_key, r.kind, r.lookup_key, r.sid_keys, r.grant_key, r.account_key, r.idp, r.version,
        r.state, r.dek_version, r.sealed, r.created_at, r.expires_at)
    insert into session_records (record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version,
      state, dek_version, sealed, created_at, expires_at)
    select c.record_key, c.kind, c.lookup_key, c.sid_keys, c.grant_key, c.account_key, c.idp, c.version,
      'ended', c.dek_version, c.sealed, c.created_at, c.expires_at
    from closed c where c.kind = 'Session' and c.state = 'active';
  end loop;
end;
$$;

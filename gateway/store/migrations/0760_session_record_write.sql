-- Fifteenth round (reviewer finding, high): a logout could be undone. `session_record_put` opens an `ended`
-- session again (a login replaces a session's cookie id by ending it and saving it again, in one request), so a
-- request that had read the session before another request's logout ended it, and saved it afterwards (an SSO
-- adding an RP, a sliding expiry), wrote it back `active`.
--
-- `session_record_write` is `session_record_put` with one more argument, `p_reopen`: the `valid_from` of the
-- `ended` row the writing request's own end made (`session_records_close`, below, answers it for each session it
-- moved from `active` to `ended`). An ended session is opened again only when that very row is still its current
-- one: not when another request's end came first (the writer's end then moved nothing and earned no row), nor
-- after (that end closed the writer's row, or made a newer one). Otherwise the ended row is the answer, as a
-- revoked one always is, and nothing is written. `session_record_put` and `session_records_end` stay, unchanged,
-- for instances not yet upgraded (a rolling upgrade).
--
-- It also keeps a session's stored sids (reviewer finding, medium): two requests saving one session at once each
-- wrote the sids they read plus their own, and the last write dropped the other's, so a revocation by that sid
-- found nothing.
create function session_record_write(
  p_record_key bytea, p_kind text, p_lookup_key bytea, p_sid_keys bytea[], p_grant_key bytea,
  p_account_key bytea, p_idp text, p_version integer, p_state text, p_dek_version integer, p_sealed text,
  p_created_at timestamptz, p_expires_at timestamptz, p_reopen timestamptz)
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
  -- the head's row lock too: a revocation locks the heads of the sessions it matches (`DurableTier.revoke`)
  select h.expires_at, h.grant_key into head, head_grant from session_record_heads h where h.record_key = p_record_key
    for update;
  if found then
    if p_kind = 'Session' then
      -- the current row (no `valid_to`) whatever the clock did; the newest closed one only when none is current
      select * into latest from session_records r where r.record_key = p_record_key and r.expires_at = head
        order by (r.valid_to is null) desc, r.valid_from desc limit 1;
      if found then
        if latest.state = 'revoked' or (latest.state = 'ended' and (p_reopen is null or latest.valid_to is not null
            or latest.valid_from <> p_reopen)) then
          return query select latest.record_key, latest.kind, latest.lookup_key, latest.sid_keys, latest.grant_key,
            latest.account_key, latest.idp, latest.version, latest.state, latest.dek_version, latest.sealed,
            latest.created_at, latest.expires_at;
          return;
        end if;
        p_version := latest.version;
        p_created_at := latest.created_at;
        -- the sids of the stored row stay findable: two requests saving the session at once (two SSOs, to two
        -- RPs) each write what they read plus their own sid; the last must not drop the other's, else a
        -- revocation by that sid finds no session. The written sids first, in their order (a save unchanged
        -- stays unchanged), then the stored ones it lacks.
        p_sid_keys := coalesce(p_sid_keys, '{}') ||
          array(select k from unnest(coalesce(latest.sid_keys, '{}')) with ordinality as u(k, i)
                where not (k = any(coalesce(p_sid_keys, '{}'))) order by i);
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

-- `session_records_end` (migration 0750), answering each session it moved from `active` to `ended`: its key and
-- the `valid_from` of the ended row it made (what `session_record_write` takes as `p_reopen`).
create function session_records_close(p_keys bytea[]) returns table (record_key bytea, ended_from timestamptz)
language plpgsql set plan_cache_mode = force_generic_plan as $$
#variable_conflict use_column
declare
  key bytea;
  head timestamptz;
begin
  for key in select distinct k from unnest(p_keys) k order by k loop
    perform pg_advisory_xact_lock(hashtextextended(encode(key, 'hex'), 0));
    select h.expires_at into head from session_record_heads h where h.record_key = key for update;
    continue when not found;
    return query
    with closed as (
      update session_records r set valid_to = clock_timestamp()
      where r.record_key = key and r.expires_at = head and r.valid_to is null
      returning r.record_key, r.kind, r.lookup_key, r.sid_keys, r.grant_key, r.account_key, r.idp, r.version,
        r.state, r.dek_version, r.sealed, r.created_at, r.expires_at),
    kept as (
      insert into session_records (record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version,
        state, dek_version, sealed, created_at, expires_at)
      select c.record_key, c.kind, c.lookup_key, c.sid_keys, c.grant_key, c.account_key, c.idp, c.version,
        'ended', c.dek_version, c.sealed, c.created_at, c.expires_at
      from closed c where c.kind = 'Session' and c.state = 'active'
      returning session_records.record_key, session_records.valid_from)
    select kept.record_key, kept.valid_from from kept;
  end loop;
end;
$$;

-- Both functions also lock the head row of the record they write (`for update`), which a revocation
-- (`DurableTier.revoke`) locks too, in key order, before it updates the sessions it matches: an update that waited
-- on a writer's row lock saw the writer's closed row and never the row it inserted, so the session it should have
-- revoked went on active; and a writer that started while the revocation was under way read the session as it was
-- before it. Row locks, not advisory ones: a revocation of every session of an IdP may lock many thousands, beyond
-- the shared lock table.

-- The functions instances not yet upgraded still call take the same head row lock, replaced here in the database
-- (as 0750 replaced `session_record_put`): unchanged otherwise. Without it an old instance's put (its head upserted
-- after its row lock) deadlocked with a revocation (head locked, then the row), and an old instance's end was missed
-- by a revocation as before.
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
  select h.expires_at, h.grant_key into head, head_grant from session_record_heads h where h.record_key = p_record_key
    for update;
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

create or replace function session_records_end(p_keys bytea[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan as $$
declare
  key bytea;
  head timestamptz;
begin
  for key in select distinct k from unnest(p_keys) k order by k loop
    perform pg_advisory_xact_lock(hashtextextended(encode(key, 'hex'), 0));
    select h.expires_at into head from session_record_heads h where h.record_key = key for update;
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

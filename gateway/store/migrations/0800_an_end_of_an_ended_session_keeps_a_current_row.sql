-- Nineteenth round: an end of a session whose current row was already `ended` (two logouts of one session at once,
-- or a logout after a login's cookie-id rotation ended it) closed that row with no successor, since 0760 made one
-- only for an `active` row. The session then had no current row: a later revocation by person or by IdP (which
-- matches current rows) found nothing, and the token guard had nothing to refuse an `offline_access` token of that
-- session by. An end now makes an `ended` successor of an `ended` row too (a `revoked` row is still left as it is,
-- 0790). The ended row is still closed, so 0760's reopen check (a write may open only the ended row its own request's
-- end made, named by its `valid_from`) still refuses a write over it. The successor is not answered: only an end
-- that moved a session from `active` to `ended` names its row to its request, so a login replacing its cookie id
-- (an end, then a write opening the row that end made) cannot open a session another request's logout ended.
create or replace function session_records_close(p_keys bytea[]) returns table (record_key bytea, ended_from timestamptz)
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
      where r.record_key = key and r.expires_at = head and r.valid_to is null and r.state <> 'revoked'
      returning r.record_key, r.kind, r.lookup_key, r.sid_keys, r.grant_key, r.account_key, r.idp, r.version,
        r.state, r.dek_version, r.sealed, r.created_at, r.expires_at),
    kept as (
      insert into session_records (record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version,
        state, dek_version, sealed, created_at, expires_at)
      select c.record_key, c.kind, c.lookup_key, c.sid_keys, c.grant_key, c.account_key, c.idp, c.version,
        'ended', c.dek_version, c.sealed, c.created_at, c.expires_at
      from closed c where c.kind = 'Session'
      returning session_records.record_key, session_records.valid_from)
    select kept.record_key, kept.valid_from from kept where exists (select from closed c where c.state = 'active');
  end loop;
end;
$$;


-- The sessions already left with no current row (two ends before this migration; before 0790, an end that closed a
-- revoked row) get their latest row back as current, as it was (`ended` or `revoked`), under each one's write lock:
-- a revocation by person or IdP finds them again, and the token guard refuses a revoked one's tokens.
do $$
declare
  key bytea;
begin
  for key in
    select l.record_key from (
      select distinct on (r.record_key) r.record_key, r.valid_to, r.state
      from session_records r join session_record_heads h on h.record_key = r.record_key and r.expires_at = h.expires_at
      where r.kind = 'Session' and r.expires_at > now()
      order by r.record_key, r.valid_from desc) l
    where l.valid_to is not null and l.state in ('ended', 'revoked')
    order by l.record_key
  loop
    perform pg_advisory_xact_lock(hashtextextended(encode(key, 'hex'), 0));
    insert into session_records (record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version,
      state, dek_version, sealed, created_at, expires_at)
    select r.record_key, r.kind, r.lookup_key, r.sid_keys, r.grant_key, r.account_key, r.idp, r.version,
      r.state, r.dek_version, r.sealed, r.created_at, r.expires_at
    from session_records r join session_record_heads h on h.record_key = r.record_key and r.expires_at = h.expires_at
    where r.record_key = key and r.state in ('ended', 'revoked')
      and not exists (select from session_records c where c.record_key = key and c.expires_at = h.expires_at
        and c.valid_to is null)
    order by r.valid_from desc limit 1;
  end loop;
end;
$$;

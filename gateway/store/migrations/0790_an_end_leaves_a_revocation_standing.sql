-- Eighteenth round (review finding): an end closed a session's current row whatever its state, and made an
-- `ended` successor only for an `active` one. A revocation that committed between a request's read of a session and
-- its end of it (a logout, a login replacing its cookie id) was closed with no successor: the session then had no
-- current row, so the token guard, reading it from PostgreSQL (an instance that missed the revocation's message,
-- or restarted since), found nothing to refuse by, and a token of the revoked session whose grant survives the
-- logout (`offline_access`) was accepted again. A `revoked` row is now left as it is by both end functions: a
-- revocation is final. Otherwise `session_records_close` is as in 0760; `session_records_end` (kept for instances
-- of the version before 0760) had the same body without the answer, and is now that.
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
      from closed c where c.kind = 'Session' and c.state = 'active'
      returning session_records.record_key, session_records.valid_from)
    select kept.record_key, kept.valid_from from kept;
  end loop;
end;
$$;

create or replace function session_records_end(p_keys bytea[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan as $$
begin
  perform session_records_close(p_keys);
end;
$$;

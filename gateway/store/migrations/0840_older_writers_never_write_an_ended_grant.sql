-- Twenty-third round (last round's note): migration 0830 made `session_record_write` (fifteen arguments) refuse a
-- write of a `Grant`, `AccessToken` or `RefreshToken` whose record was ended or consumed, but the two older writers
-- kept for a rolling upgrade were left as they were: `session_record_write` with fourteen arguments (0760, called by
-- versions from 0760 to before 0780) and `session_record_put` (0740, 0750, 0760: versions before 0760). An instance
-- of such a version, holding a grant read before another instance ended it, could still write it back active, and
-- a code made on it be exchanged.
--
-- Both now answer such a write with the ended record and write nothing, as the fifteen-argument function does. The
-- fourteen-argument function is now that function with no base to compare (`p_base` null, what it never had), so it
-- also keeps an ended grant ended and moves a session's version on when a save names another person. The put keeps
-- its own handling of sessions (it opens an ended session again: the previous versions' login replacing its cookie
-- id ends the session and saves it again; README, "Rolling upgrade") and is otherwise unchanged.
create or replace function session_record_write(
  p_record_key bytea, p_kind text, p_lookup_key bytea, p_sid_keys bytea[], p_grant_key bytea,
  p_account_key bytea, p_idp text, p_version integer, p_state text, p_dek_version integer, p_sealed text,
  p_created_at timestamptz, p_expires_at timestamptz, p_reopen timestamptz)
returns table (record_key bytea, kind text, lookup_key bytea, sid_keys bytea[], grant_key bytea,
  account_key bytea, idp text, version integer, state text, dek_version integer, sealed text,
  created_at timestamptz, expires_at timestamptz)
language sql as $$
  select w.record_key, w.kind, w.lookup_key, w.sid_keys, w.grant_key, w.account_key, w.idp, w.version, w.state,
    w.dek_version, w.sealed, w.created_at, w.expires_at
  from session_record_write(p_record_key, p_kind, p_lookup_key, p_sid_keys, p_grant_key, p_account_key, p_idp,
    p_version, p_state, p_dek_version, p_sealed, p_created_at, p_expires_at, p_reopen, null::bytea) w
$$;

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
    elsif p_kind in ('Grant', 'AccessToken', 'RefreshToken') then
      -- ended (closed, no current row) or consumed (an `ended` current row): answered as ended, not written (0830)
      select * into latest from session_records r where r.record_key = p_record_key and r.expires_at = head
        order by (r.valid_to is null) desc, r.valid_from desc limit 1;
      if found and (latest.valid_to is not null or latest.state <> 'active') then
        return query select latest.record_key, latest.kind, latest.lookup_key, latest.sid_keys, latest.grant_key,
          latest.account_key, latest.idp, latest.version, 'ended'::text, latest.dek_version, latest.sealed,
          latest.created_at, latest.expires_at;
        return;
      end if;
    end if;
    update session_records r set valid_to = clock_timestamp()
      where r.record_key = p_record_key and r.expires_at = head and r.valid_to is null;
  end if;
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

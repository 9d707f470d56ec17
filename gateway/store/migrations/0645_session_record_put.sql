-- Issue #14 (performance): the durable tier's write of one record in one round trip. The same steps as
-- the transaction DurableTier.put ran from the gateway (begin, advisory lock of the record key, for a session
-- its latest row, close the current row, insert the new one, commit: 5-6 round trips), as one function
-- called in one statement (its own transaction). Each statement of a plpgsql function takes a new snapshot
-- (read committed), so the rows read after the lock include the previous lock holder's.
--
-- A session keeps its `created_at` and version across rows, and never leaves `revoked`: a write to a
-- revoked session is dropped and the revoked row is returned. Returns the row as stored.
create function session_record_put(
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
begin
  perform pg_advisory_xact_lock(hashtextextended(encode(p_record_key, 'hex'), 0));
  if p_kind = 'Session' then
    select * into latest from session_records r where r.record_key = p_record_key
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
  update session_records r set valid_to = clock_timestamp() where r.record_key = p_record_key and r.valid_to is null;
  insert into session_records (record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version,
    state, dek_version, sealed, created_at, expires_at)
  values (p_record_key, p_kind, p_lookup_key, p_sid_keys, p_grant_key, p_account_key, p_idp, p_version,
    p_state, p_dek_version, p_sealed, p_created_at, p_expires_at);
  return query select p_record_key, p_kind, p_lookup_key, p_sid_keys, p_grant_key, p_account_key, p_idp,
    p_version, p_state, p_dek_version, p_sealed, p_created_at, p_expires_at;
end;
$$;

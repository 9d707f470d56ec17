-- Nineteenth round: the state of a session's current row as a request that read the session and saves it again
-- unchanged (so writes nothing) checks it before handing out its code (`session_current_state`, held-writes.ts). A
-- plain read saw the row an end had closed but not yet committed as still current; a `for share` read waits for
-- that end, but locks a row: a transaction id, WAL and a commit flush on every check. This function takes the
-- session's write lock shared instead (its writers and ends take it exclusively: 0760, 0790, 0800), so it waits
-- only for a write or end under way, then reads with a new snapshot (a volatile function's statement): what they
-- committed is seen.
--
-- A revocation does not take that lock (it locks the session's head row, 0760). A current row whose `xmax` names a
-- transaction still running (a revocation still committing) is read again `for share`, which waits for it: then the
-- row is closed (no row: read once more without a lock, which sees what replaced it, `revoked`) or as it was (the
-- revocation rolled back). An `xmax` left by a transaction that ended (a lock, an update rolled back) costs no lock:
-- only a running transaction holds the lock on its own id (`pg_locks`, looked at only then). Checks do not wait for
-- one another. No current row: null.
create or replace function session_record_state(p_key bytea) returns text
language plpgsql volatile set plan_cache_mode = force_generic_plan as $$
declare
  current_state text;
  toucher xid;
begin
  perform pg_advisory_xact_lock_shared(hashtextextended(encode(p_key, 'hex'), 0));
  select r.state, nullif(r.xmax, '0'::xid) into current_state, toucher from session_records r
  where r.record_key = p_key and r.valid_to is null
    and r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = p_key);
  if toucher is not null
     and exists (select from pg_locks l where l.locktype = 'transactionid' and l.transactionid = toucher) then
    select r.state into current_state from session_records r
    where r.record_key = p_key and r.valid_to is null
      and r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = p_key)
    for share of r;
    if not found then
      select r.state into current_state from session_records r
      where r.record_key = p_key and r.valid_to is null
        and r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = p_key);
    end if;
  end if;
  return current_state;
end;
$$;

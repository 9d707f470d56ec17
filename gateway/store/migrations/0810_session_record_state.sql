-- Nineteenth round: the state of a session's current row as a request that read the session and saves it again
-- unchanged (so writes nothing) checks it before handing out its code (`session_current_state`, held-writes.ts). A
-- plain read saw the row an end had closed but not yet committed as still current; a `for share` read waits for
-- that end, but locks a row: a transaction id, WAL and a commit flush on every check. This function takes the
-- session's write lock shared instead (its writers and ends take it exclusively: 0760, 0790, 0800), so it waits
-- only for a write or end under way, then reads with a new snapshot (a volatile function's statement): what they
-- committed is seen. A revocation does not take that lock (it locks the session's head row, 0760): a current row
-- some transaction has touched (`xmax` set: a revocation still committing, or one that rolled back) is read again
-- `for share`, which waits for that transaction and then finds the row closed (no row) or as it was. Checks do not
-- wait for one another, and the usual one takes no transaction id. No row (null): none is current.
create or replace function session_record_state(p_key bytea) returns text
language plpgsql volatile set plan_cache_mode = force_generic_plan as $$
declare
  current_state text;
  touched boolean;
begin
  perform pg_advisory_xact_lock_shared(hashtextextended(encode(p_key, 'hex'), 0));
  select r.state, r.xmax <> '0'::xid into current_state, touched from session_records r
  where r.record_key = p_key and r.valid_to is null
    and r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = p_key);
  if touched then
    select r.state into current_state from session_records r
    where r.record_key = p_key and r.valid_to is null
      and r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = p_key)
    for share of r;
  end if;
  return current_state;
end;
$$;

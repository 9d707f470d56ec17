-- Twenty-second round (last round's note): a grant the gateway ended (a person replaced on a session, a reused refresh
-- token, a refused risky refresh: `session/grant-end.ts`) could be written again by a request of that person that
-- had read it before the end and saved it after (an authorization adding a scope): `session_record_write` guarded
-- only sessions, and a write of a record with no current row inserted one, active. The grant was back, and a code
-- the request handed out on it was exchanged for tokens.
--
-- A write of a `Grant`, `AccessToken` or `RefreshToken` whose record has rows in its head's partition but none
-- current and active (ended: closed with no successor; consumed: an `ended` current row) now writes nothing and is
-- answered with its latest row as `ended` (as a write over an ended session is). oidc-provider never reuses their
-- ids (a new grant, a new token each get a new one), so no legitimate write is refused. A person's `Identity` and an
-- `UpstreamSession` are written again after an end (the next login), as before.
--
-- Same round (last round's note): when two people's saves of one session met (two tabs of one browser), the merge
-- kept one person's (`session/session-merge.ts`), but the replaced person's own write could reach Redis after the
-- merged one at the same version, and Redis took it (a write replaces a copy of the same version): for a few seconds,
-- until the merge's eviction, the session was served as that person's and their tokens passed the token guard. A
-- session's version now moves on whenever a save names another person than its current row (a person's first login
-- on a session that named nobody keeps it): the late copy is older, and Redis keeps the merged one. The tokens of
-- the previous person are stale too (the token guard refuses them as another person's first, as before).
--
-- Instances of the previous version call this same function (fifteen arguments, since 0780): the guard applies to
-- their writes too during a rolling upgrade. The older overloads (`session_record_write` with fourteen arguments,
-- `session_record_put`: 0760) are left unguarded; only versions from before 0780 call them.
create or replace function session_record_write(
  p_record_key bytea, p_kind text, p_lookup_key bytea, p_sid_keys bytea[], p_grant_key bytea,
  p_account_key bytea, p_idp text, p_version integer, p_state text, p_dek_version integer, p_sealed text,
  p_created_at timestamptz, p_expires_at timestamptz, p_reopen timestamptz, p_base bytea)
returns table (record_key bytea, kind text, lookup_key bytea, sid_keys bytea[], grant_key bytea,
  account_key bytea, idp text, version integer, state text, dek_version integer, sealed text,
  created_at timestamptz, expires_at timestamptz, conflict boolean)
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
            latest.created_at, latest.expires_at, false;
          return;
        end if;
        -- another request wrote the session since the row this writer expects: answered, for the writer to merge
        -- (an active current row, or the ended row the writer's own end made: both current, `valid_to` null)
        if p_base is not null and latest.valid_to is null and sha256(convert_to(latest.sealed, 'UTF8')) <> p_base then
          return query select latest.record_key, latest.kind, latest.lookup_key, latest.sid_keys, latest.grant_key,
            latest.account_key, latest.idp, latest.version, latest.state, latest.dek_version, latest.sealed,
            latest.created_at, latest.expires_at, true;
          return;
        end if;
        -- a save naming another person than the current row moves the session's version on: every token issued
        -- before is stale, and a late Redis copy of a save made before (the replaced person's, after a merge of two
        -- people's saves) is older than the merged one, so Redis never takes it over that one (`HotTier.put`)
        p_version := latest.version + case
          when latest.account_key is not null and latest.account_key is distinct from p_account_key then 1 else 0 end;
        p_created_at := latest.created_at;
        -- the sids of the stored row stay findable (0760): the written sids first, then the stored ones it lacks
        p_sid_keys := coalesce(p_sid_keys, '{}') ||
          array(select k from unnest(coalesce(latest.sid_keys, '{}')) with ordinality as u(k, i)
                where not (k = any(coalesce(p_sid_keys, '{}'))) order by i);
      end if;
    else
      -- a grant or token the gateway ended (closed, no current row) or consumed (an `ended` current row) is answered
      -- as ended and not written: its ids are never reused, so a write naming one is a request that held it before
      -- the end, and would bring it back
      if p_kind in ('Grant', 'AccessToken', 'RefreshToken') then
        select * into latest from session_records r where r.record_key = p_record_key and r.expires_at = head
          order by (r.valid_to is null) desc, r.valid_from desc limit 1;
        if found and (latest.valid_to is not null or latest.state <> 'active') then
          return query select latest.record_key, latest.kind, latest.lookup_key, latest.sid_keys, latest.grant_key,
            latest.account_key, latest.idp, latest.version, 'ended'::text, latest.dek_version, latest.sealed,
            latest.created_at, latest.expires_at, false;
          return;
        end if;
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
    p_version, p_state, p_dek_version, p_sealed, p_created_at, p_expires_at, false;
end;
$$;

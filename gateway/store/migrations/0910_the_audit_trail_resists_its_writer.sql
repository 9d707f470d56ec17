-- Thirty-ninth round: the audit trail holds against the gateway's own database role when that role is not the
-- tables' owner (`node gateway/store/migrate.ts --grant-runtime <role>`, run as the owner: store/runtime-role.ts).
-- The chain's trigger and the partition upkeep run as their owner (security definer), so the runtime role needs no
-- right on the chain head nor to create or drop tables; the head moves one record forward at a time, whoever asks
-- (set back, every later insert collided on its seq and the whole fleet spooled); the checkpoints and the head
-- cannot be truncated. A role that owns the tables can still disable triggers: the boot warns about it
-- (`AUDIT_LOG_OWNED_BY_GATEWAY`).
-- Their search path is the tables' schema (where the upkeep creates partitions), then the session's temporary schema
-- named last (pg_catalog is searched first when not named): left out, the temporary schema is searched first, and a
-- runtime role's temporary `audit_chain_head` (with a trigger of its own) would run its code as the owner. The upkeep
-- is the runtime role's and the owner's alone (its drops are the owner's).
do $$
begin
  execute format(
    'alter function audit_log_chain() security definer set search_path = %I, pg_temp',
    current_schema()
  );
  execute format(
    'alter function session_records_maintain(timestamptz, interval, interval) security definer set search_path = %I, pg_temp',
    current_schema()
  );
end
$$;
revoke execute on function session_records_maintain(timestamptz, interval, interval) from public;

create function audit_chain_head_moves_forward() returns trigger
language plpgsql as $$
begin
  if tg_op <> 'UPDATE' or new.seq <> old.seq + 1 or new.hash is null or new.id is distinct from old.id then
    raise exception 'audit_chain_head moves one record forward at a time: % refused', tg_op
      using errcode = 'insufficient_privilege', hint = 'the chain head is moved by the audit_log insert trigger only';
  end if;
  return new;
end;
$$;

create trigger audit_chain_head_forward_only
  before update or delete on audit_chain_head
  for each row execute function audit_chain_head_moves_forward();

create trigger audit_chain_head_no_truncate
  before truncate on audit_chain_head
  for each statement execute function audit_log_refuse_change();

create trigger audit_checkpoints_no_truncate
  before truncate on audit_checkpoints
  for each statement execute function audit_log_refuse_change();

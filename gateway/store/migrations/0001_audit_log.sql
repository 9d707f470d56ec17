-- The audit log of logins: one row per state transition, append-only.
-- Rows are only ever inserted: a trigger refuses UPDATE, DELETE and TRUNCATE, whoever asks.
-- (Issue #5 adds hash-chaining and signed checkpoints in a later migration; columns can be added then.)
create table audit_log (
  id          bigserial   primary key,
  at          timestamptz not null default now(),
  session_id  text        not null,
  from_state  text,
  to_state    text        not null,
  component   text        not null,
  error_code  text,
  request_id  text,
  details     jsonb       not null default '{}'::jsonb
);

create index audit_log_session_id_idx on audit_log (session_id, id);

create function audit_log_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege', hint = 'audit records are never changed nor removed';
end;
$$;

create trigger audit_log_no_update_delete
  before update or delete on audit_log
  for each row execute function audit_log_refuse_change();

create trigger audit_log_no_truncate
  before truncate on audit_log
  for each statement execute function audit_log_refuse_change();

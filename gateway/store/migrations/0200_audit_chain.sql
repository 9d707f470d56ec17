-- Issue #5: the audit log becomes a hash chain with signed checkpoints.
-- Every new row carries: record_id (the writer's id, so a replayed spool record is inserted once), the
-- digest of its canonical content (computed by the writer, recomputed by `audit verify`), its sequence
-- number, the hash of the previous row and its own hash = sha256(prev_hash || digest). The chain head is
-- one locked row: concurrent writers are serialised for the few microseconds of the insert.
alter table audit_log
  add column record_id uuid,
  add column digest    bytea,
  add column seq       bigint,
  add column prev_hash bytea,
  add column hash      bytea;

create unique index audit_log_record_id_idx on audit_log (record_id);
create unique index audit_log_seq_idx on audit_log (seq);

create table audit_chain_head (
  id   boolean primary key default true check (id),
  seq  bigint  not null,
  hash bytea   not null
);
insert into audit_chain_head (id, seq, hash) values (true, 0, decode(repeat('00', 32), 'hex'));

create function audit_log_chain() returns trigger
language plpgsql as $$
declare
  head audit_chain_head%rowtype;
begin
  if new.digest is null or length(new.digest) <> 32 or new.record_id is null then
    raise exception 'audit_log rows need a record_id and a 32-byte digest'
      using errcode = 'check_violation';
  end if;
  select * into head from audit_chain_head where id for update;
  new.seq := head.seq + 1;
  new.prev_hash := head.hash;
  new.hash := sha256(head.hash || new.digest);
  update audit_chain_head set seq = new.seq, hash = new.hash where id;
  return new;
end;
$$;

create trigger audit_log_chain_before_insert
  before insert on audit_log
  for each row execute function audit_log_chain();

-- Signed checkpoints: (seq, hash) of the chain at a moment, as a compact JWS made in the HSM (ES384 audit key).
create table audit_checkpoints (
  seq        bigint      primary key,
  hash       bytea       not null,
  at         timestamptz not null default now(),
  kid        text        not null,
  public_jwk jsonb       not null,
  jws        text        not null
);

create trigger audit_checkpoints_no_update_delete
  before update or delete on audit_checkpoints
  for each row execute function audit_log_refuse_change();

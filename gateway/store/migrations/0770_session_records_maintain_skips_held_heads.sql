-- Sixteenth round (fifteenth-round review, low): `session_records_maintain` deleted the heads of records whose
-- rows are all gone while holding the partitions it had just dropped. A writer (migration 0760) locks a record's
-- head first and reads its partition next; one that had locked the head of a long-expired record then waited for
-- the dropped partition, and maintenance for that head: a deadlock, which PostgreSQL ends by aborting one (a login
-- could fail). The head delete now skips the heads another transaction holds (`for update skip locked`); the next
-- run deletes them. Otherwise as in 0740.
create or replace function session_records_maintain(p_now timestamptz, p_ahead interval, p_keep interval)
returns setof text language plpgsql as $$
declare
  day date;
  part text;
  upper_bound date;
begin
  perform pg_advisory_xact_lock(hashtext('gw-session-partitions'));
  day := (p_now at time zone 'UTC')::date - 1;
  while day <= ((p_now + p_ahead) at time zone 'UTC')::date loop
    part := 'session_records_' || to_char(day, 'YYYYMMDD');
    if to_regclass(part) is null
       and not exists (select 1 from session_records_default
                       where expires_at >= (day::timestamp at time zone 'UTC')
                         and expires_at < ((day + 1)::timestamp at time zone 'UTC')) then
      execute format('create table %I partition of session_records for values from (%L) to (%L)',
        part, day::timestamp at time zone 'UTC', (day + 1)::timestamp at time zone 'UTC');
    end if;
    day := day + 1;
  end loop;
  for part in
    select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'session_records'::regclass and c.relname ~ '^session_records_[0-9]{8}$'
  loop
    upper_bound := to_date(substr(part, 17), 'YYYYMMDD') + 1;
    if (upper_bound::timestamp at time zone 'UTC') < p_now - p_keep then
      execute format('drop table %I', part);
      return next part;
    end if;
  end loop;
  delete from session_records_default where expires_at < p_now - p_keep;
  -- a head another transaction holds (a writer, a revocation) is left for the next run: waiting for it while
  -- holding the partitions dropped above deadlocked with a writer that then reads one of them
  delete from session_record_heads h where h.record_key in (
    select s.record_key from session_record_heads s where s.expires_at < p_now - p_keep
      and not exists (select 1 from session_records r where r.record_key = s.record_key and r.expires_at = s.expires_at)
    for update skip locked);
end;
$$;

-- Thirty-second round: a late fraud verdict that stops a login records it here, under the login's advisory lock and
-- in the transaction that removes the keys the login enrolled (webauthn/keys-of-a-stopped-login.ts); an enrolment of
-- that login reads it under the same lock before it stores its key. An enrolment that spent its grant just before
-- the verdict then either stores its key before the removal (which removes it) or sees the stop and stores nothing.
-- A row outlives any enrolment grant (10 min): the removal deletes rows older than a day.
create table if not exists webauthn_stopped_logins (
  login_id text primary key,
  stopped_at timestamptz not null default now()
);

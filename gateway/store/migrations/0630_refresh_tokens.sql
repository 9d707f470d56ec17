-- Issue #12 item 5: refresh tokens live in the two-tier session store (sealed), like access tokens. A
-- rotated refresh token stays as an `ended` row (so that presenting it again is recognised as a reuse).
alter table session_records drop constraint if exists session_records_kind_check;
alter table session_records add constraint session_records_kind_check check (kind in ('Session', 'Grant', 'AccessToken', 'RefreshToken', 'Identity'));

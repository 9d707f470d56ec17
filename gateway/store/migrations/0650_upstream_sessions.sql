-- Issue #12 item 6 (SAML Single Logout): the upstream session each login opened (the IdP's NameID and
-- SessionIndex) is kept sealed in the session store, as records of kind `UpstreamSession`.
alter table session_records drop constraint if exists session_records_kind_check;
alter table session_records add constraint session_records_kind_check check (kind in ('Session', 'Grant', 'AccessToken', 'RefreshToken', 'Identity', 'UpstreamSession'));

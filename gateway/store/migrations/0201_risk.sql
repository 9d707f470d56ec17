-- Issue #5: durable state of the risk pipeline and of manual review. Redis holds the hot copies.
-- Feature values are stored as keyed hashes, never in clear (data minimisation).

-- Freeman model counts: scope = 'global' or an internal account id; field = 't' (total), 'd:<feature>'
-- (distinct values) or 'c:<feature>:<value hash>' (count of one value).
create table rba_counts (
  scope      text        not null,
  field      text        not null,
  count      bigint      not null,
  updated_at timestamptz not null default now(),
  primary key (scope, field)
);

-- Behavioural profile per account: running mean and mean absolute deviation per feature (no raw events).
create table behaviour_profiles (
  account_id text        primary key,
  profile    jsonb       not null,
  updated_at timestamptz not null default now()
);

-- Raw signals of one login (hashed feature values, behaviour vector): kept 30 days.
create table risk_signals (
  login_id   text        primary key,
  at         timestamptz not null default now(),
  account_id text        not null,
  features   jsonb       not null
);
create index risk_signals_at_idx on risk_signals (at);

-- Daily aggregates (counts per metric and key): kept 90 days; the source of the noised national export.
create table risk_aggregates (
  day    date   not null,
  metric text   not null,
  key    text   not null,
  count  bigint not null,
  primary key (day, metric, key)
);

-- Assessments, as signed for the RP (compact JWS with the audit key).
create table risk_assessments (
  login_id   text        primary key,
  at         timestamptz not null default now(),
  client_id  text        not null,
  account_id text        not null,
  score      double precision not null,
  decision   text        not null,
  assessment jsonb       not null,
  jws        text
);
create index risk_assessments_at_idx on risk_assessments (at);

-- Stage 4 work that missed its budget: reprocessed asynchronously; a late verdict can revoke the session.
create table risk_reprocess (
  id          bigserial   primary key,
  login_id    text        not null,
  account_id  text        not null,
  signals     jsonb       not null,
  enqueued_at timestamptz not null default now(),
  status      text        not null default 'pending' check (status in ('pending', 'done', 'failed')),
  attempts    int         not null default 0,
  verdict     jsonb,
  done_at     timestamptz
);
create index risk_reprocess_pending_idx on risk_reprocess (id) where status = 'pending';

-- The manual-review queue.
create table review_queue (
  login_id    text        primary key,
  client_id   text        not null,
  idp         text        not null,
  account_id  text        not null,
  score       double precision not null,
  reasons     jsonb       not null,
  status      text        not null default 'pending' check (status in ('pending', 'approved', 'denied', 'expired')),
  created_at  timestamptz not null default now(),
  deadline    timestamptz not null,
  decided_by  text,
  decided_at  timestamptz,
  note        text
);
create index review_queue_pending_idx on review_queue (created_at) where status = 'pending';

-- Issue #10 item 13: a review records the policy level that flagged it and every operator who approved it;
-- a level-3 review needs several distinct operators (ops.review.level3Approvals) before it is approved.
alter table review_queue add column level smallint not null default 0;
alter table review_queue add column approvals jsonb not null default '[]'::jsonb;

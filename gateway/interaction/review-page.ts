/**
 * GET /interaction/:uid/review — where the browser of a login under manual review waits. The page polls
 * by reloading itself every 5 s (`<meta http-equiv="refresh">`: no script needed, works with assistive
 * technology and without JavaScript); once the review is decided or has timed out, the browser is sent
 * to /interaction/:uid/complete, which finishes the login or tells the RP it was refused.
 * Only the browser holding the interaction may see it.
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';
import { escapeHtml, page } from '../http/html.ts';
import type { Services } from '../services.ts';
import { fallbackNotice } from '../webauthn/fallback-notice.ts';

export const REVIEW_POLL_SECONDS = 5;

export async function reviewPage(ctx: Context, services: Services, uid: string): Promise<void> {
  const details = await services.holder.provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
  const review = await services.fraud.reviews.get(uid);
  if (!review) throw new GatewayError('INTERACTION_INVALID', 400, 'this sign-in is not under review');
  const record = await services.flow.get(uid);
  ctx.set('Cache-Control', 'no-store');
  if (review.status !== 'pending' || record?.state !== 'MANUAL_REVIEW') {
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(uid)}/complete`);
    return;
  }
  const minutes = Math.max(1, Math.ceil((review.deadline.getTime() - Date.now()) / 60_000));
  ctx.type = 'html';
  ctx.body = page(
    'Your sign-in is being checked',
    `<h1>Your sign-in is being checked</h1>
<p role="status">For your protection, a member of our team is checking this sign-in. Keep this page open: it updates by itself.</p>
${fallbackNotice(review.reasons)}<p>This takes at most <strong>${escapeHtml(String(minutes))} minute${minutes > 1 ? 's' : ''}</strong>. If nobody has answered by then, the sign-in is refused and you can try again.</p>
<p><a href="/interaction/${escapeHtml(encodeURIComponent(uid))}/review">Check now</a></p>`,
  ).replace('<head>', `<head><meta http-equiv="refresh" content="${REVIEW_POLL_SECONDS}">`);
}

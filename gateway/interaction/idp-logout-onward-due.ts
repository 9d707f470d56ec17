/**
 * An IdP-initiated logout that ended its session but could not answer (the HSM busy signing the answer: 503 with
 * Retry-After, `idp-logout-request.ts`) leaves here the session it ended, for the same request sent again by the
 * same browser: once that retry is answered, the browser goes to the session's other IdPs first
 * (`idp-logout-onward.ts`), as the first attempt would have done. Before, a retry was answered at once, and the
 * person's sessions at the other IdPs stayed open.
 *
 * - Kept under `slo:onward-due:<idp>:<retry key>`: the adapter's key of the request (`LogoutAnswer.retryKey`, the same
 *   for its retry whatever the binding or encoding it comes back by, and only for it), for as long as a way back of
 *   the chain (10 minutes; the adapter's kept answer lives no longer than the request's time window). Only when the
 *   adapter kept the answer (else the retry is a replay) and the session stood on upstream logins of its own person.
 * - What is kept: the session's uid and the browser binding of the browser that brought the request (no identity in
 *   clear). A retry from another browser (a copy of the request, from a Redirect URL's history or logs) asks no IdP:
 *   audited `UPSTREAM_LOGOUT_SKIPPED` with `UPSTREAM_LOGOUT_OTHER_BROWSER`, and answered at once, as before; the
 *   answer and what is kept here stay for the first browser's own retry, which still asks on.
 * - Read only once the retry has been verified and answered, and taken once. Only exactly what {@link keepOnwardDue}
 *   writes is read back.
 *
 * Limits: a front-channel logout run where the browser sends no binding cookie (an iframe with third-party cookies
 * blocked) leaves nothing, and its retry asks no other IdP, as before. The session's person is checked against its
 * upstream link when kept, not again at the retry (an ended session is never linked again). A copy's retry leaves
 * the adapter's kept answer in place ({@link mayTakeKeptAnswer}), so the first browser's own retry finds it whenever
 * it lands (an adapter that does not ask takes it, and it is kept again after, as before).
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { bindingKeys, browserBinding, browserBindings } from '../session/browser-binding.ts';
import type { EndedSession } from '../session/upstream-sessions.ts';
import { audit } from './upstream-logout-audit.ts';
import { upstreamSessions, type Deps } from './upstream-logout-parts.ts';

/** As long as a leg's way back (`logout-way-back.ts`). */
const DUE_TTL_SECONDS = 600;

const DUE = z.object({ uid: z.string().min(1), binding: z.string().min(1) }).strict();

const keyOf = (idp: string, retryKey: string) => `slo:onward-due:${idp}:${retryKey}`;

/** The binding stored with a due entry (a retry's is compared with it under every binding key: `browserBindings`). */
const bindingOf = (ctx: Context, services: Deps, use: 'keep') =>
  browserBinding(ctx, services.config.secrets.browserBindingKey, services.config.cookies, use);

/**
 * Keeps `session` (the session the unanswered request ended; of several, this browser's) for the retry of the
 * request `retryKey` names, when there is an IdP to ask later and this browser can be recognised then. False when
 * nothing was kept.
 *
 * @example
 * await keepOnwardDue(ctx, services, adapter.id, unanswered.retryKey, own);
 */
export async function keepOnwardDue(
  ctx: Context,
  services: Deps,
  idp: string,
  retryKey: string,
  session: EndedSession,
): Promise<boolean> {
  const binding = bindingOf(ctx, services, 'keep');
  if (binding === undefined) return false;
  // the session's upstream logins of its own person (checked now: the retry names no person)
  const logins = await upstreamSessions(services).logoutsOf(session.uid, session.account);
  if (logins === null || logins === 'another-person') return false;
  const due = DUE.parse({ uid: session.uid, binding });
  await services.redis.set(keyOf(idp, retryKey), JSON.stringify(due), 'EX', DUE_TTL_SECONDS);
  return true;
}

/**
 * The session {@link keepOnwardDue} kept for the retry `retryKey` names (taken once), when this is the browser that
 * brought the first attempt; none when nothing is kept; `other-browser` when another browser brings it (the caller
 * keeps the answer again, then audits {@link otherBrowser}): what is kept stays for the first browser's own retry.
 * Redis failing or a value it never wrote: an error (the caller answers the IdP at once; the session stays ended).
 */
export async function takeOnwardDue(
  ctx: Context,
  services: Deps,
  idp: string,
  retryKey: string,
): Promise<EndedSession[] | 'other-browser'> {
  const due = await readDue(ctx, services, idp, retryKey);
  if (due === null || due === 'other-browser') return due ?? [];
  // taken once: two retries of that browser at once ask on once
  return (await services.redis.del(keyOf(idp, retryKey))) === 1 ? [{ uid: due.uid }] : [];
}

/**
 * Whether the adapter may take its kept answer for the retry `retryKey` names (`answerLogout`'s
 * `takesKeptAnswer`): not when what is kept here is another browser's (a copy of the request from a Redirect URL's
 * history or logs). Its answer is then read and left in place, and the first browser's own retry finds it however
 * the two interleave; before, the copy took it and kept it again, and a first-browser retry in between was refused as
 * a replay. Read only.
 */
export async function mayTakeKeptAnswer(ctx: Context, services: Deps, idp: string, retryKey: string): Promise<boolean> {
  return (await readDue(ctx, services, idp, retryKey)) !== 'other-browser';
}

async function readDue(
  ctx: Context,
  services: Deps,
  idp: string,
  retryKey: string,
): Promise<z.infer<typeof DUE> | 'other-browser' | null> {
  const raw = await services.redis.get(keyOf(idp, retryKey));
  if (raw === null) return null;
  const due = DUE.parse(JSON.parse(raw));
  // stored under the current key or one used before a rotation: this browser's cookie either way
  const here = browserBindings(ctx, bindingKeys(services.config.secrets), services.config.cookies);
  return here.includes(due.binding) ? due : 'other-browser';
}

/** Audits a retry that another browser than the first attempt's brought: no IdP asked from there. */
export function otherBrowser(ctx: Context, services: Deps, idp: string): Promise<void> {
  return audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', idp, 'UPSTREAM_LOGOUT_OTHER_BROWSER', { retry: true });
}

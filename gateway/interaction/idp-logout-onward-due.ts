/**
 * An IdP-initiated logout that ended its session but could not answer (the HSM busy signing the answer: 503 with
 * Retry-After, `idp-logout-request.ts`) leaves here the session it ended, for the same request sent again: once that
 * retry is answered, the browser goes to the session's other IdPs first (`idp-logout-onward.ts`), as the first
 * attempt would have done. Before, a retry was answered at once, and the person's sessions at the other IdPs stayed
 * open.
 *
 * Kept in Redis under `slo:onward-due:<digest>`, the digest of the IdP and of the message's fields exactly as
 * received (a retry carries the same ones: the adapter answers it only then), for as long as a way back of the chain
 * (10 minutes; the adapter's kept answer lives no longer than the request's time window). Read only once the retry
 * has been verified and answered, and taken once. Only exactly what {@link keepOnwardDue} writes is read back.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InboundLogoutMessage } from '../../adapters/contract.ts';
import type { EndedSession } from '../session/upstream-sessions.ts';
import type { Deps } from './upstream-logout-parts.ts';

/** As long as a leg's way back (`logout-way-back.ts`). */
const DUE_TTL_SECONDS = 600;

const DUE = z.object({ uid: z.string().min(1), account: z.string().min(1).optional() }).strict();

/** The key of the message `message` of the IdP `idp`: the same for the same fields, whatever their order. */
function keyOf(idp: string, message: InboundLogoutMessage): string {
  const fields = Object.entries(message.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = createHash('sha256').update(JSON.stringify([idp, message.method, fields])).digest('base64url');
  return `slo:onward-due:${digest}`;
}

/**
 * Keeps `session` (the one session the unanswered request ended) for the retry of `message`.
 *
 * @example
 * await keepOnwardDue(services, adapter.id, message, endedSessions[0]);
 */
export async function keepOnwardDue(
  services: Pick<Deps, 'redis'>,
  idp: string,
  message: InboundLogoutMessage,
  session: EndedSession,
): Promise<void> {
  const due = DUE.parse({ uid: session.uid, ...(session.account === undefined ? {} : { account: session.account }) });
  await services.redis.set(keyOf(idp, message), JSON.stringify(due), 'EX', DUE_TTL_SECONDS);
}

/**
 * Takes the session {@link keepOnwardDue} kept for `message` (once), null when none was. Redis failing or a value it
 * never wrote: an error (the caller answers the IdP at once; the session stays ended).
 */
export async function takeOnwardDue(
  services: Pick<Deps, 'redis'>,
  idp: string,
  message: InboundLogoutMessage,
): Promise<EndedSession | null> {
  const raw = await services.redis.getdel(keyOf(idp, message));
  return raw === null ? null : DUE.parse(JSON.parse(raw));
}

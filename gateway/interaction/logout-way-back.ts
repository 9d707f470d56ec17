/**
 * The way back from the IdP of an RP-initiated logout sent on to it (or of an IdP-initiated one asked on: then also,
 * under a key of its own, the IdP that began it and our answer to it, {@link keepOnward}): kept under
 * `slo:return:<relay>` (the relay value of our logout request) when the request is sent, for as long as it may be
 * answered; taken once by the IdP's LogoutResponse; with the IdPs still to ask after it, when the session stood on
 * logins at several IdPs. Only exactly what `keepWayBack` writes is read back: Redis failing is
 * `FLOW_STORE_UNAVAILABLE`, any other value `INTERNAL` (both audited as refusals by `idp-logout-response.ts`).
 */
import { z } from 'zod';
import { errorSpec } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import type { FrontChannel } from '../../adapters/contract.ts';
import type { Deps } from './upstream-logout-parts.ts';

/** How long the way back from the IdP is kept (as long as our logout request may be answered). */
const RETURN_TTL_SECONDS = 600;

/**
 * Keeps the way back for the relay value of a logout request sent to the IdP.
 *
 * @example
 * await keepWayBack(services, relayState, { logoutId, idp: ref.idp, returnTo });
 */
export async function keepWayBack(services: Pick<Deps, 'redis'>, relay: string, back: WayBack): Promise<void> {
  await services.redis.set(`slo:return:${relay}`, JSON.stringify(back), 'EX', RETURN_TTL_SECONDS);
}

/** A browser's way on kept for later (the signed answer to an IdP's own LogoutRequest: `idp-logout-onward.ts`). */
const FRONT_CHANNEL = z.discriminatedUnion('binding', [
  z.object({ binding: z.literal('redirect'), url: z.string().min(1) }).strict(),
  z.object({ binding: z.literal('post'), url: z.string().min(1), fields: z.record(z.string(), z.string()) }).strict(),
]);

/** What `keepWayBack` keeps under `slo:return:<relay>`: exactly that, nothing else is read as a way back. */
const WAY_BACK = z
  .object({
    logoutId: z.string().min(1),
    idp: z.string().min(1),
    returnTo: z.string().min(1),
    // the IdPs still to ask after this one (`upstream-logout-chain.ts`): the session, then its logins by id
    sessionUid: z.string().min(1).optional(),
    then: z.array(z.string().min(1)).max(8).optional(),
  })
  .strict()
  .refine((back) => (back.then === undefined) === (back.sessionUid === undefined), 'then and sessionUid go together');
export type WayBack = z.infer<typeof WAY_BACK>;

/**
 * Reads the way back kept for the relay value of our logout request (null: none), leaving it in place: it is taken
 * ({@link dropWayBack}) only once the answer is verified, so that a forged answer carrying a relay value seen
 * elsewhere (a URL, a Referer) uses up nothing of the real answer's. Redis failing: `FLOW_STORE_UNAVAILABLE` (503);
 * a value `keepWayBack` never wrote: `INTERNAL` (500). Both audited as refusals.
 */
export async function readWayBack(services: Pick<Deps, 'redis'>, relay: string | undefined): Promise<WayBack | null> {
  if (relay === undefined) return null;
  let raw: string | null;
  try {
    raw = await services.redis.get(`slo:return:${relay}`);
  } catch (error) {
    throw wayBackError('FLOW_STORE_UNAVAILABLE', 'Redis did not answer', error);
  }
  if (raw === null) return null;
  try {
    return WAY_BACK.parse(JSON.parse(raw));
  } catch (error) {
    throw wayBackError('INTERNAL', 'not a way back the gateway wrote', error);
  }
}

/** The way back of a verified answer, taken: a fault is logged by the caller (the key expires by itself). */
export async function dropWayBack(services: Pick<Deps, 'redis'>, relay: string | undefined): Promise<void> {
  if (relay !== undefined) await services.redis.del(`slo:return:${relay}`);
}

export const wayBackError = (code: 'FLOW_STORE_UNAVAILABLE' | 'INTERNAL', detail: string, cause: unknown) =>
  new GatewayError(code, errorSpec(code).status, 'The logout response could not be taken back.', {
    detail: `logout response: ${detail}`,
    cause,
  });

/**
 * An IdP-initiated logout asked on to the session's other IdPs (`idp-logout-onward.ts`): the IdP that began it (not
 * asked again) and our signed answer to its LogoutRequest (null: it lists no endpoint for one), where the browser
 * goes at the end. Kept beside each leg's way back, under `slo:onward:<relay>`, a key of its own (a way back or a
 * chain read by the version before this one keeps its shape: such an instance answers the IdP's LogoutResponse and
 * goes on as for an RP-initiated logout, without this).
 */
export interface Onward {
  initiator: string;
  answer: FrontChannel | null;
  /**
   * The browser that logged out (its binding HMAC), when known: a leg's answer refused (forged, with the relay value
   * seen in a URL) still brings our answer to the IdP that began it, but only in that browser.
   */
  binding?: string;
}

const ONWARD = z
  .object({ initiator: z.string().min(1), answer: FRONT_CHANNEL.nullable(), binding: z.string().min(1).optional() })
  .strict();

/** Keeps `onward` for the leg sent with the relay value `relay` (as long as its way back). */
export async function keepOnward(services: Pick<Deps, 'redis'>, relay: string, onward: Onward): Promise<void> {
  await services.redis.set(`slo:onward:${relay}`, JSON.stringify(onward), 'EX', RETURN_TTL_SECONDS);
}

/**
 * Takes what {@link keepOnward} kept for `relay` (once: the same answer again finds nothing), null when nothing was,
 * or when `mayTake` says no to it (it is then left in place).
 * Redis failing or a value it never wrote: an error (the caller answers as it can; the logout stays done).
 */
export async function takeOnward(
  services: Pick<Deps, 'redis'>,
  relay: string | undefined,
  mayTake: (onward: Onward) => boolean = () => true,
): Promise<Onward | null> {
  if (relay === undefined) return null;
  const key = `slo:onward:${relay}`;
  const peeked = await services.redis.get(key);
  if (peeked === null || !mayTake(ONWARD.parse(JSON.parse(peeked)))) return null;
  const raw = await services.redis.getdel(key);
  return raw === null ? null : ONWARD.parse(JSON.parse(raw));
}

/**
 * POST /interaction/:uid/signals — the behavioural side channel. Accepts one small JSON vector for a login
 * that is still being chosen/authenticated, from the browser holding that interaction (oidc-provider's
 * interaction cookie, scoped to `/interaction/<uid>`), and keeps it in Redis for stage 1. Answers 204.
 *
 * - body ≤ 4 KiB, `application/json`; fields validated (`SIGNALS_INVALID`);
 * - a login not in INITIATED or AUTHENTICATING, or another browser's interaction: `INTERACTION_INVALID`;
 * - raw events never arrive here: only the aggregates of `features.ts`.
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';
import type { Services } from '../services.ts';
import { parseVector } from '../behaviour/features.ts';
import type { BehaviourStore } from '../behaviour/store.ts';

const LIMIT = 4096;

async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new GatewayError('SIGNALS_INVALID', 415, 'expected application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new GatewayError('REQUEST_TOO_LARGE', 413, 'signals too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new GatewayError('SIGNALS_INVALID', 400, 'invalid behavioural signals', { detail: 'not JSON' });
  }
}

/** The route handler; `store` is the behaviour store built at boot. */
export function signalsHandler(store: BehaviourStore) {
  return async (ctx: Context, services: Services, uid: string): Promise<void> => {
    const details = await services.holder.provider.interactionDetails(ctx.req, ctx.res).catch(() => null);
    if (!details || details.uid !== uid) throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
    const record = await services.flow.get(uid);
    if (!record || (record.state !== 'INITIATED' && record.state !== 'AUTHENTICATING')) {
      throw new GatewayError('INTERACTION_INVALID', 400, 'this sign-in does not take signals now');
    }
    const vector = parseVector(await readJson(ctx));
    await store.save(uid, vector);
    ctx.status = 204;
  };
}

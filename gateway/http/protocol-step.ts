/**
 * An answer ≥ 400 that is a step of the protocol rather than a client's failure, marked on the raw response by
 * the surface that answered it and read by the rate limiter, which then charges no failure for it. oidc-provider
 * answers on `ctx.res` itself (oidc/provider-holder.ts), so the outer Koa context never sees its body: the mark
 * travels on the `ServerResponse` both share.
 *
 * Today one step: `use_dpop_nonce` (oidc/dpop-nonces.ts), the token or PAR endpoint asking an authenticated client
 * for the gateway's DPoP nonce, or userinfo or the risk assessment (api/risk-assessment.ts) asking anyone for a
 * fresh one. The rate limiter exempts the first always, the second only for a nonce the gateway handed out
 * (ratelimit/middleware.ts; the risk assessment's answers charge nothing anyway). The risk assessment marks its
 * refusal itself (`markProtocolStepError`) when the proof carried a nonce the gateway handed out, gone stale: the
 * error handler logs that error at info, not as a failed request (error-handler.ts).
 */
import type { ServerResponse } from 'node:http';

export type ProtocolStep = 'use_dpop_nonce';

const STEP = Symbol('gateway.http.protocol-step');

type Marked = ServerResponse & { [STEP]?: ProtocolStep };

/**
 * @example
 * if (error.error === 'use_dpop_nonce') markProtocolStep(ctx.res, 'use_dpop_nonce');
 */
export function markProtocolStep(res: ServerResponse, step: ProtocolStep): void {
  (res as Marked)[STEP] = step;
}

/** The step this answer was marked as, if any. */
export function protocolStepOf(res: ServerResponse): ProtocolStep | undefined {
  return (res as Marked)[STEP];
}

/**
 * Marks a refusal thrown to the error handler as a step of the protocol (the risk assessment's stale nonce): the
 * handler logs that error at info, not as a failed request. The mark is on the error itself, so no other error of
 * the same request is taken for the step.
 *
 * @example
 * throw markProtocolStepError(new GatewayError('RISK_ASSESSMENT_PROOF_INVALID', 401, '…'), 'use_dpop_nonce');
 */
export function markProtocolStepError<E extends Error>(error: E, step: ProtocolStep): E {
  (error as E & { [STEP]?: ProtocolStep })[STEP] = step;
  return error;
}

/** The step a thrown error was marked as, if any. */
export function protocolStepOfError(error: unknown): ProtocolStep | undefined {
  return error instanceof Error ? (error as Error & { [STEP]?: ProtocolStep })[STEP] : undefined;
}

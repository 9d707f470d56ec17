/**
 * A login that meets a dependency going away mid-way (issue #15, "Answers"): the HSM saturated (`HSM_BUSY`),
 * PostgreSQL restarting (`DATABASE_UNAVAILABLE`), Redis lost (`FLOW_STORE_UNAVAILABLE`), the audit log unwritable
 * (`AUDIT_UNAVAILABLE`), an adapter's `unavailable` kind: every registry row at 503 whose RP answer is
 * `temporarily_unavailable`. Met at the ACS (upstream-answer.ts) or at the completion step (complete.ts):
 *
 * | what is still reachable                 | the login                                   | the browser |
 * |-----------------------------------------|---------------------------------------------|-------------|
 * | flow store (Redis) and audit (PG/spool) | FAILED at once, audited with the code       | back to the RP: `error=temporarily_unavailable`, `state`, `iss` |
 * | Redis, but the audit neither in PostgreSQL nor in its spool | unchanged; the sweeper fails it (FLOW_TIMEOUT) once the audit is back | back to the RP as above |
 * | not Redis (flow store, interactions)    | unchanged; the sweeper fails it when Redis is back | the FR/EN error page (503, Retry-After) |
 * | the login is not attributable (ACS: RelayState from another browser) | unchanged (no one fails another's login) | the error page |
 *
 * Never a token: the RP is told an error, a COMPLETED login is never touched.
 */
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { errorSpec, type ErrorCode } from '../error-registry.ts';
import { afterDecisionPath } from '../completion/resume-path.ts';
import { GatewayError } from '../errors.ts';
import { mapError } from '../http/error-handler.ts';
import type { Services } from '../services.ts';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'DENIED']);

/**
 * The registered code of a dependency being unavailable (503, the RP told `temporarily_unavailable`), or
 * `undefined` for any other error (a refusal, a fault of ours).
 *
 * @example
 * unavailableCode(new HsmError('HSM_BUSY', 'busy')); // 'HSM_BUSY'
 */
export function unavailableCode(error: unknown): ErrorCode | undefined {
  const { code, status } = mapError(error);
  return status === 503 && errorSpec(code).oauth === 'temporarily_unavailable' ? code : undefined;
}

/**
 * {@link unavailableCode} of `error` or of the causes under it: an adapter wraps the HSM's failure to sign its
 * message in its own code (its signing-failure code over `HSM_BUSY`).
 *
 * @example
 * // an adapter's signing failure whose cause is new HsmError('HSM_BUSY', 'busy')
 * unavailableCodeWithin(signingFailure); // 'HSM_BUSY'
 */
export function unavailableCodeWithin(error: unknown): ErrorCode | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 8; depth += 1) {
    const code = unavailableCode(e);
    if (code !== undefined) return code;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

/**
 * The error the page answers for a dependency's `code` (from {@link unavailableCodeWithin}): `error` itself when
 * it carries the code, else the code's registry error over it (an adapter's own code wrapping the store's
 * failure must not reach the page as that code's 500).
 */
export function unavailableError(error: unknown, code: ErrorCode): unknown {
  if (unavailableCode(error) === code) return error;
  return new GatewayError(code, errorSpec(code).status, 'The sign-in cannot continue now; retry in a moment.', {
    cause: error,
  });
}

/**
 * Moves a live login to FAILED with `code` (audited): `failed`; `over` when it already ended; `unchanged`,
 * logged, when a store is down (the flow sweeper will fail it).
 */
export async function failLogin(
  ctx: Context,
  services: Services,
  loginId: string,
  code: ErrorCode,
  component: string,
): Promise<'failed' | 'over' | 'unchanged'> {
  const requestId = ctx.state.requestId as string;
  try {
    const record = await services.flow.get(loginId);
    if (!record || TERMINAL.has(record.state)) return 'over';
    await services.flow.transition(loginId, 'FAILED', { component, errorCode: code, requestId });
    return 'failed';
  } catch (err) {
    services.logger.warn({ err, loginId, code, requestId }, 'login not failed at once: the flow sweeper will');
    return 'unchanged';
  }
}

/**
 * The ACS met `code` on a login attributed to this browser: the login is failed and its outcome (`rejected`
 * with the code) stored, and the browser sent to the resume, where the completion step tells the RP
 * `temporarily_unavailable` (the registry's answer for the code, complete.ts). `false` when the login is
 * over or the outcome could not be stored: the caller rethrows (the error page).
 */
export async function answerUnavailableAtAcs(
  ctx: Context,
  services: Services,
  loginId: string,
  code: ErrorCode,
  component: string,
): Promise<boolean> {
  if ((await failLogin(ctx, services, loginId, code, component)) === 'over') return false;
  try {
    await services.logins.saveOutcome(loginId, { status: 'rejected', code });
  } catch (err) {
    services.logger.warn({ err, loginId, code }, 'the RP could not be told: the error page answers');
    return false;
  }
  ctx.status = 303;
  ctx.redirect(afterDecisionPath(services.config.federation, loginId));
  return true;
}

/**
 * The completion step met `error`: when it is a dependency's 503 and the interaction can still be finished,
 * the login is failed and the RP told `temporarily_unavailable` (oidc-provider adds `state` and `iss`);
 * `true` when the browser was answered so. Otherwise `false`: the caller rethrows (the error page).
 */
export async function answerUnavailableAtCompletion(
  ctx: Context,
  services: Services,
  uid: string,
  error: unknown,
  refuse: (result: InteractionResults) => Promise<void>,
): Promise<boolean> {
  const code = unavailableCode(error);
  if (code === undefined) return false;
  try {
    // a login that reached COMPLETED keeps its result: the person is sent on with the code already issued
    if ((await services.flow.get(uid))?.state === 'COMPLETED') return false;
  } catch {
    return false; // Redis gone: the interaction cannot be finished either
  }
  await failLogin(ctx, services, uid, code, 'interaction');
  try {
    await refuse({ error: 'temporarily_unavailable', error_description: errorSpec(code).en });
    return true;
  } catch (err) {
    services.logger.warn({ err, loginId: uid, code }, 'the RP could not be told: the error page answers');
    return false;
  }
}

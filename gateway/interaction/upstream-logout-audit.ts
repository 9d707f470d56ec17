/**
 * The audit records of Single Logout with the upstream IdPs (`upstream-logout.ts` has the whole): one per message
 * or decision, under `slo:<requestId>`, the IdP's adapter as component; a refused message is also counted and
 * logged (`refused`). A NUL character in a detail is written `U+0000` (the audit log refuses it).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import type { AdapterError } from '../../adapters/contract.ts';
import type { AuditErrorCode } from '../audit-codes.ts';
import type { GatewayError } from '../errors.ts';
import type { Deps } from './upstream-logout-parts.ts';

/** Audits, counts and logs a refused logout message. */
export async function refused(
  ctx: Context,
  services: Deps,
  to: 'UPSTREAM_LOGOUT_REFUSED' | 'UPSTREAM_LOGOUT_FAILED',
  idp: string | undefined,
  error: AdapterError | GatewayError,
  details: Record<string, unknown> = {},
): Promise<void> {
  await audit(ctx, services, to, idp, error.code, { ...details, detail: error.detail });
  services.metrics.upstreamRejected(error.code);
  services.logger.warn({ code: error.code, detail: error.detail, idp }, 'IdP logout message refused');
}

/** The audit states of Single Logout with the IdPs (each record's `to`; its code, if any, in `errorCode`). */
type LogoutAuditState =
  | 'UPSTREAM_LOGOUT_ANSWERED'
  | 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY'
  | 'UPSTREAM_LOGOUT_ANSWER_SENT'
  | 'UPSTREAM_LOGOUT_UNANSWERED'
  | 'UPSTREAM_LOGOUT_UNAVAILABLE'
  | 'UPSTREAM_LOGOUT_REFUSED'
  | 'UPSTREAM_LOGOUT_FAILED'
  | 'UPSTREAM_LOGOUT_SENT'
  | 'UPSTREAM_LOGOUT_SKIPPED'
  | 'UPSTREAM_LOGOUT_COMPLETED';

export async function audit(
  ctx: Context,
  services: Deps,
  to: LogoutAuditState,
  idp: string | undefined,
  errorCode: AuditErrorCode | undefined,
  details: Record<string, unknown>,
): Promise<void> {
  const requestId = ctx.state?.requestId as string | undefined;
  await services.audit.append({
    sessionId: `slo:${requestId ?? randomUUID()}`,
    from: null,
    to,
    component: idp ? `adapter:${idp}` : 'upstream-logout',
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(requestId === undefined ? {} : { requestId }),
    details: withoutNul({ ...details, ...(idp ? { idp } : {}) }) as Record<string, unknown>,
  });
}

/**
 * A refusal's detail may quote the message (`SigAlg …`, a parameter name): a NUL character in it, which the
 * audit log refuses (jsonb cannot hold one), turned the refusal into a 500 (issue #15, found by the logout
 * fuzzer). Written as `U+0000` instead.
 */
function withoutNul(value: unknown): unknown {
  // the character, and its JSON escape written out (the audit log's check reads the serialised JSON text)
  if (typeof value === 'string') return value.replaceAll('\u0000', 'U+0000').replaceAll('\\u0000', 'U+0000');
  if (Array.isArray(value)) return value.map(withoutNul);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)]));
  return value;
}

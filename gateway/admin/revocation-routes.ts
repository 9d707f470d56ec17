/**
 * Session revocation over HTTP (issue #12 item 4), on the operations listener, to operators with the
 * `revoker` role: what `node gateway/session/cli.ts revoke …` does, through the same typed API
 * (`session/revocation.ts`), so a revocation made here is propagated, audited and told to the RPs
 * (back-channel logout, CAEP session-revoked) like any other.
 *
 * | method | path                | body                                              | answer |
 * |--------|---------------------|---------------------------------------------------|--------|
 * | POST   | /admin/revocations  | `{ "scope", "value", "reason" }`                  | 200 `{ id, scope, sessions, propagated }` |
 *
 * | scope           | value                                             | ends                                  |
 * |-----------------|---------------------------------------------------|---------------------------------------|
 * | `session`       | oidc-provider's session uid                       | one session                           |
 * | `sid`           | a `sid` from an ID token or a logout token        | the one session that handed it out    |
 * | `account`       | the gateway's account id of a person              | every session of that person          |
 * | `idp`           | an upstream IdP id                                | every session that came from that IdP |
 * | `issued_before` | an ISO 8601 instant, not in the future            | every session begun before it (key compromise) |
 *
 * - the actor is `operator:<name>` of the credential presented (never a name in the body): it is in the
 *   `SESSION_REVOKED` audit record; `reason` (1–500 characters, no control character) is required and audited;
 * - refusals: 401 `OPS_UNAUTHORIZED`, 403 `OPS_FORBIDDEN` (no `revoker` role), 400 `REQUEST_INVALID`
 *   (not a JSON object, or an unknown key), `REVOCATION_SCOPE_UNKNOWN`, `REVOCATION_VALUE_INVALID`,
 *   `REVOCATION_REASON_REQUIRED`; 413 `REQUEST_TOO_LARGE`; 405 for another method; each refusal of a known
 *   operator is audited (`REVOCATION_REFUSED`, the code, the operator when it holds the role), and nothing is
 *   revoked; a request without a valid credential (401) is only counted (the request metrics), never audited;
 * - `sessions` is how many sessions this call revoked (0: none matched, or all were already revoked);
 *   `propagated: false` means Redis did not answer: the revocation is in PostgreSQL and is applied to Redis
 *   and the other instances when it returns (enforced meanwhile by every read that falls back to PostgreSQL).
 */
import type { Context, Middleware } from 'koa';
import type { AuditLog } from '../audit/audit-log.ts';
import { GatewayError } from '../errors.ts';
import { revocationInstant, revocationReason } from '../session/revocation-input.ts';
import { printable } from '../audit/operator-text.ts';
import type { RevocationResult, RevokeOptions, SessionRevoker } from '../session/revocation.ts';
import type { Operators } from './operator-auth.ts';
import { readJsonObject } from './read-json.ts';

const PATH = '/admin/revocations';
const KEYS = new Set(['scope', 'value', 'reason']);
const ID = /^[A-Za-z0-9_.:@-]{1,256}$/;

export type Revoker = Pick<
  SessionRevoker,
  'revokeSession' | 'revokeAllOfAccount' | 'revokeAllOfIdp' | 'revokeIssuedBefore'
>;
type Revocation = (revoker: Revoker, options: RevokeOptions) => Promise<RevocationResult>;

/** Each scope: how its value is checked and which call of the revocation API it makes. */
const SCOPES: Readonly<Record<string, (value: string, now: Date) => Revocation>> = {
  session: (value) => (r, o) => r.revokeSession({ uid: id(value) }, o),
  sid: (value) => (r, o) => r.revokeSession({ sid: id(value) }, o),
  account: (value) => (r, o) => r.revokeAllOfAccount(id(value), o),
  idp: (value) => (r, o) => r.revokeAllOfIdp(id(value), o),
  issued_before: (value, now) => {
    const instant = revocationInstant(value, now);
    if (typeof instant === 'string') throw new GatewayError('REVOCATION_VALUE_INVALID', 400, instant);
    return (r, o) => r.revokeIssuedBefore(instant, o);
  },
};

function id(value: string): string {
  if (!ID.test(value)) throw new GatewayError('REVOCATION_VALUE_INVALID', 400, 'value is not a valid identifier');
  return value;
}

/** The revocation a body names (validated), or a refusal with its code. */
function revocationOf(body: Record<string, unknown>, now: Date): { scope: string; run: Revocation; reason: string } {
  const unknown = Object.keys(body).filter((k) => !KEYS.has(k));
  if (unknown.length > 0)
    throw new GatewayError('REQUEST_INVALID', 400, 'unknown key in the body', {
      detail: printable([...unknown.join(',')].slice(0, 64).join('')),
    });
  const { scope, value, reason } = body;
  if (typeof scope !== 'string' || !Object.hasOwn(SCOPES, scope))
    throw new GatewayError('REVOCATION_SCOPE_UNKNOWN', 400, `scope must be one of ${Object.keys(SCOPES).join(', ')}`);
  if (typeof value !== 'string' || value.length === 0)
    throw new GatewayError('REVOCATION_VALUE_INVALID', 400, 'value must be a non-empty string');
  const checked = revocationReason(reason);
  if ('problem' in checked) throw new GatewayError('REVOCATION_REASON_REQUIRED', 400, checked.problem);
  return { scope, run: SCOPES[scope]!(value, now), reason: checked.reason };
}

/**
 * @example
 * app.use(revocationRoutes(services.sessions.revoker, operators, services.audit)); // before adminRoutes
 */
export function revocationRoutes(revoker: Revoker, operators: Operators, audit: Pick<AuditLog, 'append'>): Middleware {
  return async (ctx: Context, next) => {
    if (ctx.path !== PATH) return next();
    let operator: string | undefined;
    try {
      operator = operators.authenticate(ctx, 'revoker');
      if (ctx.method !== 'POST') {
        ctx.status = 405;
        ctx.set('Allow', 'POST');
        return;
      }
      const { scope, run, reason } = revocationOf(await readJsonObject(ctx), new Date());
      const result = await run(revoker, { actor: `operator:${operator}`, reason });
      ctx.body = { id: result.id, scope, sessions: result.sessions, propagated: result.propagated, rps: result.rps };
    } catch (error) {
      // a request without a valid credential is not audited: anyone who reaches the listener could otherwise grow
      // the append-only audit chain at will (it is counted with its 401 in the request metrics, as on every path)
      if (error instanceof GatewayError && error.expose && error.code !== 'OPS_UNAUTHORIZED')
        await audit.append({
          sessionId: 'revocation:refused',
          from: null,
          to: 'REVOCATION_REFUSED',
          component: 'admin',
          errorCode: error.code,
          requestId: String(ctx.state.requestId ?? ''),
          // the credential holder refused for want of the role too (set by `authenticate` before its 403)
          details: { operator: operator ?? (typeof ctx.state.operator === 'string' ? ctx.state.operator : null) },
        });
      throw error;
    }
  };
}

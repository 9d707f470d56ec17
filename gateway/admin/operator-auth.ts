/**
 * Who is calling the operations listener (issue #10 item 13). Loopback is not an identity: behind a
 * same-host reverse proxy every request comes from 127.0.0.1. Each operator has a bearer credential
 * (`ops.operators[]`, kept as its SHA-256) and roles:
 *
 * - no or unknown credential → 401 `OPS_UNAUTHORIZED` (`WWW-Authenticate: Bearer`);
 * - a known operator without the role the path needs → 403 `OPS_FORBIDDEN`;
 * - either way a known operator's name is `ctx.state.operator`: the request's log line and a refusal's audit
 *   record name who called;
 * - the presented credential is hashed and compared with every configured hash in constant time (no
 *   early exit, so the time taken says nothing about which operator, if any, matched).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { credentialHash, type OperatorEntry, type OperatorRole } from '../config/ops.ts';
import { GatewayError } from '../errors.ts';

export interface Operators {
  /** The name of the operator whose credential `ctx` presents, if it holds `role`; throws otherwise. */
  authenticate(ctx: Context, role: OperatorRole): string;
}

/**
 * @example
 * const operators = operatorsOf(config.ops.operators);
 * const name = operators.authenticate(ctx, 'reviewer'); // 'alice'
 */
export function operatorsOf(entries: readonly OperatorEntry[]): Operators {
  const known = entries.map((o) => ({ name: o.name, roles: new Set(o.roles), hash: o.tokenHash }));
  return {
    authenticate(ctx: Context, role: OperatorRole): string {
      const given = credentialHash(/^Bearer ([\x21-\x7e]{1,512})$/.exec(ctx.get('authorization'))?.[1] ?? '');
      let match: (typeof known)[number] | undefined;
      for (const candidate of known) {
        if (timingSafeEqual(candidate.hash, given) && match === undefined) match = candidate;
      }
      if (match === undefined) {
        ctx.set('WWW-Authenticate', 'Bearer realm="gateway-ops"');
        throw new GatewayError('OPS_UNAUTHORIZED', 401, 'an operator credential is required');
      }
      // who called, for the request's log line and a refusal's audit record, whether or not the role is held
      ctx.state.operator = match.name;
      if (!match.roles.has(role))
        throw new GatewayError('OPS_FORBIDDEN', 403, `operator ${match.name} lacks the ${role} role`);
      return match.name;
    },
  };
}

/**
 * GET /metrics (operations listener) needs an operator credential with the `metrics` role: the peer
 * address grants nothing (behind a same-host reverse proxy every request comes from 127.0.0.1).
 * No credential or an unknown one → 401 OPS_UNAUTHORIZED; a known operator without the role → 403
 * OPS_FORBIDDEN. Credentials are kept as hashes only.
 */
import test, { type ExecutionContext } from 'ava';
import type { Context } from 'koa';
import { operatorsOf } from '../../gateway/admin/operator-auth.ts';
import { metricsRoute } from '../../gateway/admin/metrics-route.ts';
import { credentialHash } from '../../gateway/config/ops.ts';
import { GatewayError, type ErrorCode } from '../../gateway/errors.ts';
import { Counter, Registry } from 'prom-client';

const ALICE = 'alice-metrics-credential-0123456789abcdef';
const BOB = 'bob-review-only-credential-0123456789abcd';
const operators = operatorsOf([
  { name: 'alice', tokenHash: credentialHash(ALICE), roles: ['metrics'] },
  { name: 'bob', tokenHash: credentialHash(BOB), roles: ['reviewer'] },
]);

function fakeContext(
  authorization: string | undefined,
  remoteAddress = '127.0.0.1',
): Context & { body?: unknown; type?: string } {
  const headers: Record<string, string> = {};
  return {
    path: '/metrics',
    state: {},
    method: 'GET',
    req: { socket: { remoteAddress }, headers: {} },
    set: (k: string, v: string) => {
      headers[k] = v;
    },
    get: (k: string) => (k.toLowerCase() === 'authorization' ? (authorization ?? '') : ''),
    headers,
  } as unknown as Context;
}

const refused = async (t: ExecutionContext, authorization: string | undefined, code: ErrorCode, status: number) => {
  const route = metricsRoute(new Registry(), operators);
  const error = await t.throwsAsync(
    route(fakeContext(authorization), async () => undefined),
    { instanceOf: GatewayError },
  );
  t.is(error?.code, code);
  t.is((error as GatewayError).status, status);
};

test('a loopback peer without a credential is refused: 401 OPS_UNAUTHORIZED', (t) =>
  refused(t, undefined, 'OPS_UNAUTHORIZED', 401));
test('an unknown credential is refused: 401 OPS_UNAUTHORIZED', (t) =>
  refused(t, 'Bearer not-a-known-operator-credential-000000', 'OPS_UNAUTHORIZED', 401));
test('the hash of a credential is not a credential: 401 OPS_UNAUTHORIZED', (t) =>
  refused(t, `Bearer ${credentialHash(ALICE).toString('hex')}`, 'OPS_UNAUTHORIZED', 401));
test('an operator without the metrics role is refused: 403 OPS_FORBIDDEN', (t) =>
  refused(t, `Bearer ${BOB}`, 'OPS_FORBIDDEN', 403));

test('an operator with the metrics role reads the exposition, from any peer', async (t) => {
  const registry = new Registry();
  new Counter({ name: 'a_total', help: 'a', registers: [registry] }).inc();
  const ctx = fakeContext(`Bearer ${ALICE}`, '203.0.113.7');
  await metricsRoute(registry, operators)(ctx, async () => undefined);
  t.regex(String(ctx.body), /^a_total 1$/m);
  t.regex(String(ctx.type), /version=0\.0\.4/);
});

/**
 * OIDC-SSO-03, as a security officer's suite runs it over HTTP: the cookies of a browser holding a session that a
 * sibling site could plant (every one not `__Host-` prefixed), copied into a fresh browser, give it no code.
 *
 * - against the gateway on an https issuer it passes: its session cookie is `__Host-_session`;
 * - against the same gateway behind a proxy that takes the prefix off its cookies (a deployment without it) it
 *   fails, and says the fresh browser got a code;
 * - so it does behind a proxy that gives the gateway a `_session` or `__Secure-_session` as `__Host-_session`
 *   when the browser has no prefixed one (a deployment that reads fallback names);
 * - against an http issuer it is skipped, saying why.
 *
 * The https issuer listens on plain http on loopback; this process's `fetch` stands in for the TLS-terminating
 * proxy (tls-terminated-fetch.ts).
 */
import test from 'ava';
import { runSuite } from '../../conformance/suite/runner.ts';
import type { CheckResult } from '../../conformance/suite/types.ts';
import { freePort } from '../harness/services/free-port.ts';
import { startSuiteDeployment, type SuiteDeployment } from './suite-deployment.ts';
import { terminateTlsFor } from './tls-terminated-fetch.ts';
import { startUnprefixedCookiesProxy, type Renaming } from './unprefixed-cookies-proxy.ts';

const ID = 'OIDC-SSO-03';
const behindTls: string[] = [];
const restore = terminateTlsFor(() => behindTls);

test.after.always(() => restore());

/**
 * `check` judged against a deployment started with `options` (and what `front` puts before it), then stopped: one
 * at a time, as a process sees a new SoftHSM2 token only once every token it opened is closed.
 */
async function against<T>(
  options: Parameters<typeof startSuiteDeployment>[0],
  check: (deployment: SuiteDeployment) => Promise<T>,
): Promise<T> {
  const deployment = await startSuiteDeployment({ eidas: false, ...options });
  if (options?.https === true) behindTls.push(new URL(deployment.target).origin);
  try {
    return await check(deployment);
  } finally {
    await deployment.stop();
  }
}

async function judged(deployment: SuiteDeployment): Promise<CheckResult> {
  const report = await runSuite({
    target: deployment.target,
    plans: ['oidc'],
    only: [ID],
    client: deployment.client,
    idp: deployment.idp,
    progress: () => undefined,
  });
  const base = report.results.find((r) => r.id === 'OIDC-BASE-00');
  if (base?.verdict !== 'pass') throw new Error(`the honest login failed: ${base?.observed ?? base?.reason}`);
  return report.results.find((r) => r.id === ID)!;
}

/**
 * The check judged against the gateway on an https issuer behind a proxy that renames its cookies `renaming`; on
 * other ports when the one handed out for the proxy was taken meanwhile.
 */
async function judgedBehindProxy(renaming: Renaming): Promise<CheckResult> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return await against({ https: true, issuerPort: port }, async (deployment) => {
        const proxy = await startUnprefixedCookiesProxy({ port, upstream: deployment.gatewayUrl, renaming });
        try {
          return await judged(deployment);
        } finally {
          await proxy.stop();
        }
      });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 3) throw error;
    }
  }
}

test.serial('it passes against the gateway on an https issuer: nothing it relies on can be planted', async (t) => {
  const result = await against({ https: true }, judged);
  t.is(result.verdict, 'pass', result.observed ?? result.reason);
  t.regex(result.sent ?? '', /copied into a fresh browser/);
});

test.serial('it fails against a deployment whose cookies have no __Host- prefix', async (t) => {
  const result = await judgedBehindProxy('takes-prefix-off');
  t.is(result.verdict, 'fail', result.observed ?? result.reason);
  t.regex(result.observed ?? '', /WITH an authorization code/);
  t.regex(result.sent ?? '', /_session/);
});

test.serial(
  'it fails against a deployment that reads a fallback name when its __Host- cookie is missing',
  async (t) => {
    const result = await judgedBehindProxy('reads-fallback-names');
    t.is(result.verdict, 'fail', result.observed ?? result.reason);
    t.regex(result.observed ?? '', /WITH an authorization code/);
    t.regex(result.sent ?? '', /__Secure-_session/);
  },
);

test.serial('it is skipped against an http issuer, saying why', async (t) => {
  const result = await against({}, judged);
  t.is(result.verdict, 'skipped');
  t.regex(result.reason ?? '', /http issuer/);
});

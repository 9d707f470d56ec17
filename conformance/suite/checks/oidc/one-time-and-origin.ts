/**
 * Classes of weakness closed in the gateway's issue #10, probed from outside on any deployment:
 * - a code redeemed by many requests at the same moment gives one token set (single use is atomic);
 * - discovery is not written from the request's Host / X-Forwarded-Host (cache poisoning);
 * - the authorization endpoint accepts POST (OpenID Connect Core §3.1.2.1);
 * - an AuthnRequest for `prompt=login` forces authentication upstream (ForceAuthn="true").
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Browser } from '../../browser/browser.ts';
import { formsIn } from '../../browser/forms.ts';
import { judge, type CheckDefinition } from '../../types.ts';
import { describeTokenAnswer } from './flows.ts';

const RACE = 20;
const ATTACKER = 'attacker.invalid';

/** GET `path` on the target with a forged Host (fetch cannot set Host). */
function getWithHost(
  target: URL,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: target.hostname,
        port: target.port || undefined,
        path,
        method: 'GET',
        headers: { accept: 'application/json', ...headers },
        servername: target.hostname,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The checks. */
export const oneTimeAndOriginChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-CODE-RACE-01',
    title: `One code redeemed by ${RACE} requests at once gives exactly one token set`,
    plan: 'oidc',
    source: 'RFC 6749 §4.1.2 (single use); RFC 9700 §4.5',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      // Its own login: the reuse this provokes revokes the grant, which must not be the shared session's.
      const login = await ctx.login();
      if (login.code === null)
        return {
          verdict: 'fail',
          sent: 'an honest login',
          expected: 'a code',
          observed: `error=${login.error ?? login.status}`,
        };
      const { code, request } = { code: login.code, request: login.request };
      const answers = await Promise.all(Array.from({ length: RACE }, () => ctx.rp.exchange(code, request)));
      const issued = answers.filter((a) => a.status === 200).length;
      const refused = answers.filter((a) => a.status === 400 && a.json.error === 'invalid_grant').length;
      return judge(issued === 1 && refused === RACE - 1, {
        sent: `${RACE} token requests with the same code, at the same moment`,
        expected: `1 × 200, ${RACE - 1} × invalid_grant`,
        observed: `${issued} × 200, ${refused} × invalid_grant; e.g. ${describeTokenAnswer(answers[answers.length - 1]!)}`,
      });
    },
  },
  {
    id: 'OIDC-HOST-01',
    title: 'Discovery is not written from a forged Host or X-Forwarded-Host',
    plan: 'oidc',
    source: 'RFC 8414 §3 (issuer-derived metadata); cache poisoning via Host (OWASP WSTG-INPV-17)',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const path = '/.well-known/openid-configuration';
      const answers = await Promise.all([
        getWithHost(ctx.target, path, { host: ATTACKER }),
        getWithHost(ctx.target, path, {
          host: ctx.target.host,
          'x-forwarded-host': ATTACKER,
          'x-forwarded-proto': 'https',
        }),
      ]);
      const leaks = answers.filter((a) => a.status === 200 && a.body.includes(ATTACKER));
      return judge(leaks.length === 0, {
        sent: `GET ${path} with Host: ${ATTACKER}; then with X-Forwarded-Host: ${ATTACKER}`,
        expected: "refused (e.g. 421), or a document whose URLs are the issuer's",
        observed: answers
          .map((a) => `HTTP ${a.status}${a.body.includes(ATTACKER) ? ' naming the attacker host' : ''}`)
          .join('; '),
      });
    },
  },
  {
    id: 'OIDC-AUTHZ-POST-01',
    title: 'The authorization endpoint accepts a form-encoded POST',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.1',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const url = ctx.rp.authorization().url;
      const browser = new Browser();
      const answer = await browser.request(new URL(`${url.origin}${url.pathname}`), {
        method: 'POST',
        form: Object.fromEntries(url.searchParams),
      });
      await answer.body?.cancel();
      const ok = answer.status >= 300 && answer.status < 400;
      return judge(ok, {
        sent: `POST ${url.pathname} with the authorization request as a form`,
        expected: 'the same as GET: a redirect to the login (or to the RP)',
        observed: `HTTP ${answer.status}${answer.headers.get('location') ? ` → ${new URL(answer.headers.get('location')!, url).pathname}` : ''}`,
      });
    },
  },
  {
    id: 'OIDC-REAUTH-01',
    title: 'prompt=login sends the IdP an AuthnRequest with ForceAuthn="true"',
    plan: 'saml',
    source: 'OpenID Connect Core §3.1.2.1 (prompt=login); SAML Core §3.4.1 (ForceAuthn)',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      if (!ctx.idp)
        return {
          verdict: 'skipped',
          sent: '-',
          expected: 'a suite IdP registered at the target',
          observed: 'no suite IdP (run with --idp)',
        };
      const url = ctx.rp.authorization({ prompt: 'login', idp_hint: ctx.idp.idpId }).url;
      const landing = await new Browser().follow(url);
      const post = formsIn(await landing.response.text()).find((f) => f.fields.SAMLRequest !== undefined);
      const request = post ? Buffer.from(post.fields.SAMLRequest!, 'base64').toString('utf8') : '';
      return judge(request.includes('ForceAuthn="true"'), {
        sent: 'an authorization request with prompt=login and idp_hint',
        expected: 'an AuthnRequest with ForceAuthn="true"',
        observed: post
          ? request.includes('ForceAuthn="true"')
            ? 'ForceAuthn="true"'
            : 'AuthnRequest without ForceAuthn'
          : `no AuthnRequest form (landed on ${landing.url.pathname})`,
      });
    },
  },
];

/**
 * WebAuthn enrolment, probed from outside (the gateway's issue #10, item 10): a key the gateway accepts
 * later stands in for LoA high or a manual review, so adding one must take more than a password. After an
 * ordinary login of the suite user (LoA substantial, as the RP usually sends it, then again with
 * `prompt=login`), the same browser asks the gateway's enrolment page for every level and kind of key:
 * every answer must be a refusal, never a registration ceremony.
 *
 * The check does not pass vacuously: the account page of the same login (`…/webauthn/credentials`, shown
 * after any completed login) must answer 200 first, proving the interaction and the browser are the right
 * ones; a deployment without it is skipped unless it offers a ceremony (then it fails).
 */
import type { Browser } from '../../browser/browser.ts';
import type { SuiteContext } from '../../context.ts';
import { judge, skip, type CheckDefinition, type Outcome } from '../../types.ts';

/** What the enrolment page is asked for: the levels and kinds the gateway knows, and the query of old versions. */
const ASKED = [
  'level=2&kind=platform',
  'level=2&kind=cross-platform',
  'level=3&kind=cross-platform',
  'kind=cross-platform',
  'kind=platform',
] as const;

/** A page that starts a WebAuthn registration: creation options (a `user` and `pubKeyCredParams`). */
const CEREMONY = /data-ceremony="register"|pubKeyCredParams/;

interface Probe {
  login: string;
  account: number;
  answers: { query: string; status: number; ceremony: boolean; code: string | null }[];
}

/** The login's interaction id, from the pages the browser went through. */
function interactionOf(browser: Browser): string | null {
  for (const hop of browser.trail) {
    const match = /\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/|$)/.exec(hop);
    if (match) return match[1]!;
  }
  return null;
}

async function probe(ctx: SuiteContext, name: string, authorize: Record<string, string>): Promise<Probe | Outcome> {
  const login = await ctx.login({ authorize });
  if (login.code === null)
    return {
      verdict: 'fail',
      sent: `an honest login (${name})`,
      expected: 'a code',
      observed: `error=${login.error ?? login.status}`,
    };
  const uid = interactionOf(login.browser);
  if (uid === null)
    return skip('the login went through no /interaction/ page of the target', { sent: `a login (${name})` });
  const base = new URL(`interaction/${encodeURIComponent(uid)}/webauthn/`, `${ctx.target.href.replace(/\/$/, '')}/`);
  const account = await login.browser.request(new URL('credentials', base));
  await account.body?.cancel();
  const answers: Probe['answers'] = [];
  for (const query of ASKED) {
    const response = await login.browser.request(new URL(`register?${query}`, base));
    const html = await response.text();
    answers.push({
      query,
      status: response.status,
      ceremony: response.status === 200 && CEREMONY.test(html),
      code: /Error code:\s*<code>([A-Za-z0-9_]{1,64})<\/code>/.exec(html)?.[1] ?? null,
    });
  }
  return { login: name, account: account.status, answers };
}

const describe = (p: Probe) =>
  `${p.login}: account page HTTP ${p.account}; ` +
  p.answers
    .map(
      (a) =>
        `${a.query} → HTTP ${a.status}${a.ceremony ? ' with a registration ceremony' : ''}${a.code ? ` ${a.code}` : ''}`,
    )
    .join(', ');

/** The checks. */
export const webauthnEnrolmentChecks: readonly CheckDefinition[] = [
  {
    id: 'WEBAUTHN-ENROL-01',
    title: 'An ordinary login earns no WebAuthn enrolment: the registration page refuses every level and kind',
    plan: 'oidc',
    source:
      'NIST SP 800-63B §6.1.2.1 (binding an additional authenticator requires an authenticator at the AAL sought); WebAuthn L2 §13.4.1',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const probes: Probe[] = [];
      for (const [name, authorize] of [
        ['no prompt', {}],
        ['prompt=login', { prompt: 'login' }],
      ] as const) {
        const result = await probe(ctx, name, authorize);
        if ('verdict' in result) return result;
        probes.push(result);
      }
      const sent = `two logins of the suite user (no prompt; prompt=login), then GET /interaction/<uid>/webauthn/register?${ASKED.join(' | ')} in the same browser`;
      const expected =
        'every answer a refusal (403 WEBAUTHN_ENROLMENT_NOT_ALLOWED or WEBAUTHN_LEVEL3_UNAVAILABLE), never a registration ceremony';
      const observed = probes.map(describe).join(' — ');
      const offered = probes.some((p) => p.answers.some((a) => a.ceremony || a.status < 400));
      if (offered) return judge(false, { sent, expected, observed });
      if (probes.some((p) => p.account !== 200))
        return skip(
          'the target shows no account page for the login: its refusals cannot be told from a wrong interaction',
          { sent, expected, observed },
        );
      return judge(true, { sent, expected, observed });
    },
  },
];

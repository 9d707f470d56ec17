/**
 * No silent path to a token: an existing oidc-provider session never answers an authorization request by
 * itself. oidc-provider's default policy lets any session answer any RP (only `prompt=login`, `max_age`,
 * `id_token_hint` and essential acr claims ask for a login), which would issue codes that no translation
 * point, risk assessment, policy or audit record ever saw. The gateway's policy, in prompt order:
 *
 * 1. `login` (oidc-provider's checks, plus `gateway_upstream_required`): the session cannot stand for this
 *    request — the acr the RP requires is above the session's, the session's upstream evidence is gone or
 *    from a one-time-use assertion — so the person goes upstream again (with `prompt=none`: `login_required`);
 * 2. `sso` (not requestable): every other request on a session is a login of its own through the
 *    translation point (`completion/sso.ts`): interactively at /interaction/:uid (`gateway_sso`), or, with
 *    `prompt=none`, decided while answering: `allow` gets its code without any page; otherwise the RP gets
 *    `login_required`, `interaction_required` or `access_denied` (OIDC Core §3.1.2.6), never a code;
 * 3. `consent`: reached only once a login of this request made the grant; the interaction page refuses a
 *    consent prompt on its own (`CONSENT_WITHOUT_LOGIN`), it never grants around the translation point.
 *
 * A request resuming after its own gateway login (`result.login`) passes 1 and 2.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

/** The reason of the `sso` prompt when a request on a session needs its own (interactive) gateway login. */
export const SSO_LOGIN_REASON = 'gateway_sso';

const { Check, Prompt, base } = interactionPolicy;

/** What a `prompt=none` request on a session is answered. */
export type SilentAnswer = 'allow' | 'login_required' | 'interaction_required' | 'access_denied';

/** The translation point's side of SSO, implemented above this part (`completion/sso.ts`), wired at boot. */
export interface SsoGate {
  /** Whether the session may stand for this request at all (else the person goes upstream). */
  mayStand(ctx: KoaContextWithOIDC): Promise<boolean>;
  /** Decides a `prompt=none` request on a session that may stand, as a login of its own. */
  silent(ctx: KoaContextWithOIDC): Promise<SilentAnswer>;
  /**
   * An interactive request on a session (prompt `sso`), once oidc-provider saved its interaction: its login
   * decided now, and the path the browser goes to next (the resume); `undefined` leaves it to the interaction
   * page (interaction-url.ts).
   */
  atAuthorization?(ctx: KoaContextWithOIDC, interaction: PendingInteraction): Promise<string | undefined>;
}

/** What the SSO gate reads of an interaction oidc-provider just saved. */
export interface PendingInteraction {
  uid: string;
  exp: number;
  prompt: { name: string; reasons: string[] };
  params: Record<string, unknown>;
}

/** A request on a session that no gateway login of its own answered yet. */
const onSession = (ctx: KoaContextWithOIDC) => !ctx.oidc.result?.login && Boolean(ctx.oidc.session?.accountId);
const silent = (ctx: KoaContextWithOIDC) => ctx.oidc.promptPending('none');

/** One answer per request, however many checks ask. */
function memo<T>(compute: (ctx: KoaContextWithOIDC) => Promise<T>): (ctx: KoaContextWithOIDC) => Promise<T> {
  const answers = new WeakMap<KoaContextWithOIDC, Promise<T>>();
  return (ctx) => {
    let answer = answers.get(ctx);
    if (!answer) {
      answer = compute(ctx);
      answers.set(ctx, answer);
    }
    return answer;
  };
}

/** oidc-provider's default interaction policy with the gateway's checks and its `sso` prompt. */
export function interactionPolicyWithGatewayLogin(gate: SsoGate): ReturnType<typeof base> {
  const mayStand = memo((ctx) => gate.mayStand(ctx));
  const decide = memo((ctx) => gate.silent(ctx));
  const policy = base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider policy has no login prompt');
  // an essential acr of the claims parameter is a floor, read with acr_values (translation/required-acr.ts) and
  // enforced by the check below; oidc-provider's own checks want an exact match, which loops a higher login back
  for (const reason of ['essential_acrs', 'essential_acr']) {
    if (!login.checks.get(reason)) throw new Error(`oidc-provider's login prompt has no ${reason} check`);
    login.checks.remove(reason);
  }
  login.checks.add(
    new Check(
      'gateway_upstream_required',
      'the session cannot stand for this request',
      'login_required',
      async (ctx) => (onSession(ctx) && !(await mayStand(ctx)) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
    ),
  );
  const answered = (answer: SilentAnswer) => async (ctx: KoaContextWithOIDC) =>
    onSession(ctx) && silent(ctx) && (await decide(ctx)) === answer ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  const sso = new Prompt(
    { name: 'sso', requestable: false },
    new Check(SSO_LOGIN_REASON, 'this request needs its own gateway login', 'interaction_required', (ctx) =>
      onSession(ctx) && !silent(ctx) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
    new Check(
      'sso_login_required',
      'this request needs a new authentication',
      'login_required',
      answered('login_required'),
    ),
    new Check(
      'sso_interaction_required',
      'this request needs the person',
      'interaction_required',
      answered('interaction_required'),
    ),
    new Check('sso_access_denied', 'the sign-in was refused', 'access_denied', answered('access_denied')),
  );
  policy.add(sso, policy.indexOf(login) + 1);
  return policy;
}

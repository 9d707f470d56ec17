/**
 * Shared OIDC flows for the checks: an honest login and code exchange, a browser that holds a gateway
 * session (so further codes come silently with `prompt=none`), and plain authorization requests judged
 * without following the redirect.
 */
import { Browser } from '../../browser/browser.ts';
import type { SuiteContext } from '../../context.ts';
import type { LoginOutcome } from '../../login.ts';
import type { AuthorizationRequest, JsonAnswer } from '../../parties/rp.ts';

/** An honest login that ended with a code, and its exchange. */
export interface GoodLogin {
  out: LoginOutcome;
  tokens: JsonAnswer;
  idToken: string;
  claims: Record<string, unknown>;
  header: Record<string, unknown>;
}

/**
 * Logs in honestly, exchanges the code and verifies the ID token. Throws with what happened otherwise.
 *
 * @example const { claims } = await goodLogin(ctx);
 */
export async function goodLogin(
  ctx: SuiteContext,
  authorize: Record<string, string | null> = {},
  browser?: Browser,
): Promise<GoodLogin> {
  const out = await ctx.login({ authorize, ...(browser === undefined ? {} : { browser }) });
  if (out.code === null)
    throw new Error(
      `no code: ended ${out.at === 'rp' ? `at the RP with error=${out.error}` : `on HTTP ${out.status} at ${out.url.pathname}${out.errorCode ? ` (${out.errorCode})` : ''}`}`,
    );
  const tokens = await ctx.rp.exchange(out.code, out.request);
  const idToken = tokens.json.id_token;
  if (tokens.status !== 200 || typeof idToken !== 'string')
    // what it answered, never the tokens themselves: the message goes into every report
    throw new Error(`token endpoint answered ${describeTokenAnswer(tokens)}`);
  const { payload, header } = await ctx.rp.verifyIdToken(idToken, out.request.nonce);
  return { out, tokens, idToken, claims: payload as Record<string, unknown>, header };
}

/** One honest login per run, shared by the checks that only read its result. */
export function sharedLogin(ctx: SuiteContext): Promise<GoodLogin> {
  return ctx.memo('oidc-good-login', () => goodLogin(ctx));
}

/** A browser with a gateway session (from one honest login), shared by the checks that need one. */
export function sessionBrowser(ctx: SuiteContext): Promise<{ browser: Browser; login: GoodLogin }> {
  return ctx.memo('oidc-session-browser', async () => {
    const browser = new Browser();
    return { browser, login: await goodLogin(ctx, {}, browser) };
  });
}

/**
 * A fresh code: silently (`prompt=none`) in the session browser, else by a full login.
 *
 * @example const { code, request } = await freshCode(ctx);
 */
export async function freshCode(
  ctx: SuiteContext,
  authorize: Record<string, string | null> = {},
): Promise<{ code: string; request: AuthorizationRequest }> {
  const { browser } = await sessionBrowser(ctx);
  const silent = await ctx.login({ authorize: { prompt: 'none', ...authorize }, browser });
  if (silent.code !== null) return { code: silent.code, request: silent.request };
  const full = await ctx.login({ authorize });
  if (full.code === null) throw new Error(`could not obtain a code (error=${full.error ?? full.status})`);
  return { code: full.code, request: full.request };
}

/** Where an authorization request lands, without following its first redirect. */
export interface FirstHop {
  status: number;
  location: URL | null;
  params: URLSearchParams;
}

/**
 * Sends an authorization request and reads the first answer: a redirect (with its parameters) or a page.
 *
 * @example const hop = await firstHop(ctx, ctx.rp.authorization({ code_challenge: null }).url);
 */
export async function firstHop(_ctx: SuiteContext, url: URL, browser = new Browser()): Promise<FirstHop> {
  const response = await browser.request(url);
  await response.body?.cancel();
  const raw = response.headers.get('location');
  const location = raw === null ? null : new URL(raw, url);
  // Parameters of the query, then of the fragment (response_mode=fragment puts errors there).
  const params = new URLSearchParams(location?.search ?? '');
  for (const [k, v] of new URLSearchParams((location?.hash ?? '').replace(/^#/, ''))) params.append(k, v);
  return { status: response.status, location, params };
}

/** Describes a first hop for the report. */
export function describeHop(hop: FirstHop): string {
  if (hop.location === null) return `HTTP ${hop.status} page, no redirect`;
  const q = [...hop.params.keys()]
    .map((k) => (['code', 'access_token', 'id_token'].includes(k) ? `${k}=…` : `${k}=${hop.params.get(k)}`))
    .join('&');
  return `HTTP ${hop.status} redirect to ${hop.location.origin}${hop.location.pathname}${q === '' ? '' : `?${q}`}`;
}

/**
 * Errors that judge nothing of what was sent: the deployment was overloaded, rate limiting, or failed (RFC 6749
 * §4.1.2.1). A check answered so has not seen its input refused.
 */
const NOT_A_REFUSAL: ReadonlySet<string> = new Set(['temporarily_unavailable', 'server_error']);

/** True when the first hop refused without a code: an error redirect to the RP, or a 4xx page (not a 429). */
export function refusedHop(hop: FirstHop, redirectUri: string): boolean {
  if (hop.params.has('code')) return false;
  if (hop.location === null) return hop.status >= 400 && hop.status < 500 && hop.status !== 429;
  const error = hop.params.get('error');
  return hop.location.href.startsWith(redirectUri) && error !== null && !NOT_A_REFUSAL.has(error);
}

/**
 * Answers about the session or the person (OIDC Core §3.1.2.6): a silent request refused with one of them was not
 * refused for its own parameters (a risk engine declining silent logins to the suite answers them to every request).
 */
const SESSION_ANSWERS: ReadonlySet<string> = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

/** {@link refusedHop}, and not with an answer about the session: the request's parameters were what was refused. */
export function refusedForItsParameters(hop: FirstHop, redirectUri: string): boolean {
  return refusedHop(hop, redirectUri) && !SESSION_ANSWERS.has(hop.params.get('error') ?? '');
}

/** Describes a token-endpoint answer without echoing tokens. */
export function describeTokenAnswer(answer: JsonAnswer): string {
  const error = typeof answer.json.error === 'string' ? ` error=${answer.json.error}` : '';
  const kinds = ['access_token', 'id_token', 'refresh_token'].filter((k) => k in answer.json);
  return `HTTP ${answer.status}${error}${kinds.length > 0 ? ` with ${kinds.join(', ')}` : ''}`;
}

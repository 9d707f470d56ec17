/**
 * Fuzzing the gateway's doors with the seeded mutator (`mutator.ts`): each function sends `count` inputs
 * derived from one valid input and returns what came back. A *problem* is any answer a hostile input must
 * never get: a 5xx, a refusal without a registered error code, an identity other than the one signed, a token, a crash
 * of the config loader other than its own `ConfigError`. `make test` runs a bounded subset
 * (`fuzz-gives-no-500.test.ts`); `make bench` runs 10,000 inputs per door (`test/bench/fuzz/`).
 */
import { ERROR_CODES } from '../../gateway/error-registry.ts';
import { ConfigError } from '../../gateway/errors.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { Browser, type Form } from '../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT, type GatewayFixture } from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { mutate, mutations, prng } from './mutator.ts';

export interface FuzzSummary {
  door: string;
  inputs: number;
  statuses: Record<string, number>;
  /** The refusals by their code (the doors that read it: logout and WebAuthn). */
  codes: Record<string, number>;
  /** `#index: what went wrong` (reproduce with the same seed). */
  problems: string[];
  /** `#index: what the RP was told` for inputs answered with a redirect (a known login, refused at the resume). */
  accepted: string[];
}

export const REGISTERED = new RegExp(`\\b(${[...ERROR_CODES].sort((a, b) => b.length - a.length).join('|')})\\b`);

/** Where `mutated` differs from `original`, in the original's coordinates: [start, end). */
function changedWindow(original: string, mutated: string): [number, number] {
  let start = 0;
  while (start < original.length && start < mutated.length && original[start] === mutated[start]) start++;
  let tail = 0;
  while (
    tail < original.length - start &&
    tail < mutated.length - start &&
    original[original.length - 1 - tail] === mutated[mutated.length - 1 - tail]
  )
    tail++;
  return [start, original.length - tail];
}

export function summary(door: string): FuzzSummary {
  return { door, inputs: 0, statuses: {}, codes: {}, problems: [], accepted: [] };
}

/**
 * The bench prints each problem as it is found and a progress line (the answers so far) every
 * `progress.every` inputs of a door (0, as in `make test`: silent).
 */
export const progress = { every: 0 };
const printed = new WeakMap<FuzzSummary, number>();

export function count(s: FuzzSummary, status: number | string, reset?: string): void {
  if (reset !== undefined)
    s.statuses[`reset (${reset}), answered when sent again`] =
      (s.statuses[`reset (${reset}), answered when sent again`] ?? 0) + 1;
  s.inputs += 1;
  s.statuses[status] = (s.statuses[status] ?? 0) + 1;
  if (progress.every === 0) return;
  for (const problem of s.problems.slice(printed.get(s) ?? 0)) console.log(`  ${s.door} problem ${problem}`);
  printed.set(s, s.problems.length);
  if (s.inputs % progress.every === 0)
    console.log(`  ${s.door}: ${s.inputs} inputs ${JSON.stringify(s.statuses)} problems: ${s.problems.length}`);
}

/** A login waiting for its SAML response: the browser that started it and the IdP's valid answer. */
export interface PendingLogin {
  browser: Browser;
  valid: Form;
  /** Redeems a code of this login at the token endpoint: the ID token's claims. */
  redeem(code: string): Promise<Record<string, unknown>>;
}

/** The claims that say who the person is and how sure we are: a mutated message must never change them. */
const IDENTITY_CLAIMS = [
  'sub',
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
  'preferred_username',
  'email',
  'acr',
] as const;

function identityOf(claims: Record<string, unknown>): string {
  return JSON.stringify(IDENTITY_CLAIMS.map((name) => [name, claims[name] ?? null]));
}

/**
 * Posts mutated SAMLResponses (the XML inside the base64, and the form fields themselves) to the ACS, in the
 * browser that started the login, so the gateway's binding and InResponseTo checks are passed as far as the
 * mutation allows. A refusal that ends the login (it is known: the RP is told) is followed to the RP, and the
 * next input gets a fresh login from `next()`, so every mutation meets a live login.
 */
export async function fuzzAcs(
  next: () => Promise<PendingLogin>,
  rpRedirect: string,
  seed: number,
  n: number,
): Promise<FuzzSummary> {
  const s = summary('POST /saml/acs');
  // the oracle: the identity the RP gets from the unmutated response
  const baseline = await next();
  const baselineLanding = await baseline.browser.submit(baseline.valid, new URL(baseline.valid.action), {}, (u) =>
    u.toString().startsWith(rpRedirect),
  );
  const baselineCode = baselineLanding.url.searchParams.get('code');
  if (!baselineCode) throw new Error(`the unmutated response gave no code (${baselineLanding.url})`);
  const signedIdentity = identityOf(await baseline.redeem(baselineCode));
  let { browser, valid, redeem } = await next();
  let xml = Buffer.from(valid.fields.SAMLResponse!, 'base64').toString('utf8');
  const random = prng(seed);
  for (let index = 0; index < n; index++) {
    const value = mutate(xml, random); // of the live login's own response
    // one in eight mutates the transport instead: the base64 itself or RelayState
    const fields =
      index % 8 === 7
        ? { ...valid.fields, SAMLResponse: value.slice(0, 2000), RelayState: value.slice(0, 100) }
        : { ...valid.fields, SAMLResponse: Buffer.from(value, 'utf8').toString('base64') };
    const response = await browser.request(valid.action, { method: 'POST', form: fields });
    count(s, response.status);
    const body = await response.text();
    const location = response.headers.get('location') ?? '';
    if (response.status >= 500) s.problems.push(`#${index}: HTTP ${response.status}`);
    else if (/[?&]code=/.test(location)) s.problems.push(`#${index}: an authorization code (${location})`);
    else if (response.status >= 400 && !REGISTERED.test(body))
      s.problems.push(`#${index}: HTTP ${response.status} without a registered code`);
    else if (response.status < 400) {
      // a refusal of a known login also goes on to the resume (/auth/:uid), which tells the RP: follow it to the RP
      const landing = await browser.follow(new URL(location, valid.action), {}, (u) =>
        u.toString().startsWith(rpRedirect),
      );
      const error = landing.url.searchParams.get('error');
      const code = landing.url.searchParams.get('code');
      if (code) {
        // a code is right only when the person is exactly the one the IdP signed for: redeem it and compare
        // (a change outside the signed Assertion, inside an unsigned KeyInfo, in a namespace declaration no
        // element uses, or that a parser normalises away, leaves the identity as signed)
        const [from, to] = changedWindow(xml, value);
        const identity = identityOf(await redeem(code));
        if (identity === signedIdentity)
          s.accepted.push(`#${index}: code, the identity as signed (bytes ${from}..${to} changed)`);
        else
          s.problems.push(
            `#${index}: the RP got ${identity} instead of ${signedIdentity}; bytes ${from}..${to} changed: ${JSON.stringify(value.slice(Math.max(0, from - 40), from + 120))}`,
          );
      } else if (!landing.url.toString().startsWith(rpRedirect) || !error)
        s.problems.push(`#${index}: HTTP ${response.status} → ${landing.url} (the RP was not told)`);
      else s.accepted.push(`#${index}: the RP got error=${error}`);
      ({ browser, valid, redeem } = await next());
      xml = Buffer.from(valid.fields.SAMLResponse!, 'base64').toString('utf8');
    }
  }
  return s;
}

/** Mutated token requests (form bodies) with valid client credentials: never a token, never a 5xx, always JSON. */
export async function fuzzToken(
  issuer: string,
  client: { id: string; secret: string },
  seed: number,
  n: number,
): Promise<FuzzSummary> {
  const s = summary('POST /token');
  const base = new URLSearchParams({
    grant_type: 'authorization_code',
    code: 'x'.repeat(43),
    redirect_uri: 'http://127.0.0.1:9/callback',
    code_verifier: 'v'.repeat(43),
  }).toString();
  const auth = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
  for (const { index, value } of mutations(base, seed, n)) {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: auth,
        'content-type': 'application/x-www-form-urlencoded',
        accept: index % 2 ? 'text/html' : 'application/json',
      },
      body: value,
      signal: AbortSignal.timeout(15_000),
    });
    count(s, response.status);
    const text = await response.text();
    let json: { error?: unknown; access_token?: unknown } | null = null;
    try {
      json = JSON.parse(text) as { error?: unknown; access_token?: unknown };
    } catch {
      json = null;
    }
    if (response.status >= 500) s.problems.push(`#${index}: HTTP ${response.status}`);
    else if (json?.access_token !== undefined || response.status === 200)
      s.problems.push(`#${index}: a token was issued`);
    else if (typeof json?.error !== 'string')
      s.problems.push(`#${index}: HTTP ${response.status} without an OAuth JSON error`);
  }
  return s;
}

/** Mutated authorization requests (the query string): never a 5xx, never a code. */
export async function fuzzAuthorize(authorizationUrl: URL, seed: number, n: number): Promise<FuzzSummary> {
  const s = summary('GET /auth');
  for (const { index, value } of mutations(authorizationUrl.search.slice(1), seed, n)) {
    let target: URL;
    try {
      target = new URL(`${authorizationUrl.origin}${authorizationUrl.pathname}?${value}`);
    } catch {
      continue; // not a URL a client could send
    }
    const response = await fetch(target, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    await response.arrayBuffer();
    count(s, response.status);
    const location = response.headers.get('location') ?? '';
    if (response.status >= 500) s.problems.push(`#${index}: HTTP ${response.status}`);
    else if (/[?&]code=/.test(location)) s.problems.push(`#${index}: an authorization code (${location})`);
  }
  return s;
}

const ODD_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  ' ',
  'x'.repeat(5000),
  [],
  {},
  [null],
  { env: 'NOPE' },
  { file: '/nonexistent' },
  '__proto__',
  'eidas9',
  'http://attacker.example',
  '0.0.0.0/0',
];

/** A structural mutation of parsed JSON: a key deleted, a value replaced by an odd one, an unknown key added. */
function mutateStructure(value: unknown, random: () => number): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node: unknown = copy;
  for (let depth = 0; depth < 6 && node && typeof node === 'object'; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[Math.floor(random() * keys.length)]!;
    const child = (node as Record<string, unknown>)[key];
    if (child && typeof child === 'object' && random() < 0.6) {
      node = child;
      continue;
    }
    const what = random();
    if (what < 0.3) delete (node as Record<string, unknown>)[key];
    else if (what < 0.9) (node as Record<string, unknown>)[key] = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
    else (node as Record<string, unknown>)[`unknown_${key}`] = 1;
    break;
  }
  return copy;
}

/** Mutated configuration files (the JSON text, and its structure): loaded, or refused with a `ConfigError` naming a field. */
export function fuzzConfig(rawConfig: unknown, env: NodeJS.ProcessEnv, seed: number, n: number): FuzzSummary {
  const s = summary('config loader');
  const random = prng(seed ^ 0x5f3759df);
  for (const { index, value } of mutations(JSON.stringify(rawConfig, null, 1), seed, n)) {
    let parsed: unknown;
    if (index % 2 === 1) parsed = mutateStructure(rawConfig, random);
    else {
      try {
        parsed = JSON.parse(value);
      } catch {
        count(s, 'not-json');
        continue; // loadConfigFile reports a JSON syntax error before loadConfig runs
      }
    }
    try {
      loadConfig(parsed, { env });
      count(s, 'loaded');
    } catch (error) {
      if (error instanceof ConfigError && error.message.length > 0) count(s, 'ConfigError');
      else {
        count(s, 'crash');
        s.problems.push(
          `#${index}: ${(error as Error)?.constructor?.name}: ${(error as Error)?.message?.slice(0, 200)}`,
        );
      }
    }
  }
  return s;
}

/** A login of marie up to the IdP's valid answer, held before the ACS (the journey stops there). */
export async function pendingLogin(fx: GatewayFixture): Promise<PendingLogin> {
  const browser = new Browser();
  const request = await authorizationRequest(fx.rp);
  let valid: Form | undefined;
  const held = new Error('held before the ACS');
  await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    browser,
    beforeAcs: (form: Form) => {
      valid = form;
      throw held;
    },
  }).catch((error: unknown) => {
    if (error !== held) throw error;
  });
  const redeem = async (code: string): Promise<Record<string, unknown>> => {
    const { client_id, client_secret } = fx.deployment.client;
    const response = await fetch(`${fx.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: RP_REDIRECT,
        code_verifier: request.verifier,
      }),
    });
    const body = (await response.json()) as { id_token?: string };
    if (!body.id_token) throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
    return JSON.parse(Buffer.from(body.id_token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  };
  return { browser, valid: valid!, redeem };
}

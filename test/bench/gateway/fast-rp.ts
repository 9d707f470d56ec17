/**
 * The benchmark's relying party and browser, in one (direct HTTP, no browser engine, no HTML rendering):
 * an authorization request (code flow, PKCE S256, state, nonce), the redirects and auto-posted forms a
 * browser would follow (the conformance suite's scripted browser: cookie jar, manual redirects), the
 * SAMLResponse from the fast IdP, then the token request (client_secret_basic + code_verifier) and the
 * ID token checked as an RP does (RS256/ES256 signature against the JWKS, iss, aud, nonce).
 */
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { Browser, type Landing, type RequestInit2 } from '../../../conformance/suite/browser/browser.ts';
import { formsIn } from '../../../conformance/suite/browser/forms.ts';
import type { FastIdp } from './fast-idp.ts';
import { atGateway } from './gateway-time.ts';

/**
 * One person's browser. The gateway runs behind a trusted reverse proxy (127.0.0.1 in `trustedProxies`)
 * that forwards each person's own address: traffic of many people, not of one machine, so that the risk
 * pipeline sees what it would see in production (one identity per device and network, not thousands).
 */
export class PersonBrowser extends Browser {
  readonly person: number;
  readonly #headers: Record<string, string>;

  constructor(person: number) {
    super();
    this.person = person;
    const ip = `81.${(person >> 8) & 255}.${person & 255}.${1 + (person >> 16)}`;
    this.#headers = {
      'x-forwarded-for': ip,
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      'accept-language': 'fr-FR,fr;q=0.9',
    };
  }

  /** Every request of this browser goes to the gateway (the fast IdP answers in-process): timed as such. */
  override request(url: string | URL, init: RequestInit2 = {}): Promise<Response> {
    return atGateway(() => super.request(url, { ...init, headers: { ...this.#headers, ...init.headers } }));
  }
}

let people = 0;

export const RP_REDIRECT = 'http://127.0.0.1:9/callback';

export interface RpClient {
  gatewayUrl: string;
  clientId: string;
  clientSecret: string;
}

interface Discovered {
  issuer: string;
  authorize: string;
  token: string;
  keys: Map<string, KeyObject>;
}

export interface FastRp {
  /** A login from scratch (new browser): the full path through the IdP. Returns the browser for SSO. */
  fullLogin(): Promise<PersonBrowser>;
  /**
   * A second authorization with the gateway session cookie of `browser`: must not reach the IdP. It is a
   * login of its own at the gateway (risk pipeline, policy, audited transitions): through the interaction
   * redirects, or with `silent` (`prompt=none`) decided while the authorization request is answered.
   */
  ssoLogin(browser: PersonBrowser, silent?: boolean): Promise<void>;
  /** A login stopped when the gateway posts its AuthnRequest (an in-flight login, for memory figures). */
  startOnly(): Promise<void>;
}

const b64url = (bytes: Buffer) => bytes.toString('base64url');

export async function discoverRp(client: RpClient, idp: FastIdp, idpId: string): Promise<FastRp> {
  const config = (await (await fetch(`${client.gatewayUrl}/.well-known/openid-configuration`)).json()) as Record<
    string,
    string
  >;
  const jwks = (await (await fetch(config.jwks_uri!)).json()) as { keys: Array<{ kid: string; kty: string }> };
  const d: Discovered = {
    issuer: config.issuer!,
    authorize: config.authorization_endpoint!,
    token: config.token_endpoint!,
    keys: new Map(jwks.keys.map((k) => [k.kid, createPublicKey({ key: k, format: 'jwk' })])),
  };
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
  const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

  async function authorize(browser: PersonBrowser, viaIdp: boolean, stopAtIdp = false, silent = false): Promise<void> {
    const verifier = b64url(randomBytes(32));
    const state = b64url(randomBytes(16));
    const nonce = b64url(randomBytes(16));
    const url = new URL(d.authorize);
    const params = {
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid profile email',
      state,
      nonce,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      ...(silent ? { prompt: 'none' } : {}),
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    let step: Landing = await browser.follow(url, {}, atRp);
    if (!atRp(step.url)) {
      if (!viaIdp) throw new Error(`SSO: expected the RP redirect, got ${step.url.pathname} (${step.response.status})`);
      let forms = formsIn(await step.response.text());
      const chooser = forms.find((f) => f.action.endsWith('/idp'));
      if (chooser) {
        step = await browser.submit(chooser, step.url, { idp: idpId }, atRp);
        forms = formsIn(await step.response.text());
      }
      const post = forms.find((f) => f.fields.SAMLRequest !== undefined);
      if (!post)
        throw new Error(`expected the AuthnRequest auto-post at ${step.url.pathname} (${step.response.status})`);
      if (stopAtIdp) return;
      const { samlResponse, acsUrl } = idp.respond(post.fields.SAMLRequest!, browser.person);
      const fields: Record<string, string> = { SAMLResponse: samlResponse };
      if (post.fields.RelayState !== undefined) fields.RelayState = post.fields.RelayState;
      step = await browser.submit({ action: acsUrl, method: 'POST', fields }, step.url, {}, atRp);
      if (!atRp(step.url))
        throw new Error(
          `ACS did not lead to the RP: ${step.url.pathname} ${step.response.status} ${step.response.headers.get('x-error-code') ?? ''} ${(await step.response.text()).slice(0, 300)}`,
        );
    } else if (viaIdp) {
      throw new Error('a fresh browser reached the RP without the IdP');
    }
    await step.response.body?.cancel();
    const code = step.url.searchParams.get('code');
    if (!code || step.url.searchParams.get('state') !== state) throw new Error(`no code at the RP: ${step.url.search}`);
    await redeem(code, verifier, nonce);
  }

  async function redeem(code: string, verifier: string, nonce: string): Promise<void> {
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP_REDIRECT,
      code_verifier: verifier,
    });
    const { response, tokens } = await atGateway(async () => {
      const answer = await fetch(d.token, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      return {
        response: answer,
        tokens: (await answer.json()) as { id_token?: string; access_token?: string; error?: string },
      };
    });
    if (!response.ok || !tokens.id_token || !tokens.access_token)
      throw new Error(`token request failed: ${response.status} ${tokens.error ?? ''}`);
    const [h, p, s] = tokens.id_token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
    const key = d.keys.get(header.kid);
    const options = header.alg.startsWith('ES') ? { key: key!, dsaEncoding: 'ieee-p1363' as const } : key!;
    if (!key || !verify('sha256', Buffer.from(`${h}.${p}`), options, Buffer.from(s, 'base64url')))
      throw new Error(`ID token signature (${header.alg}) does not verify`);
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss: string; aud: string; nonce: string };
    if (claims.iss !== d.issuer || claims.aud !== client.clientId || claims.nonce !== nonce)
      throw new Error('ID token iss/aud/nonce mismatch');
  }

  return {
    async fullLogin() {
      const browser = new PersonBrowser(++people);
      await authorize(browser, true);
      return browser;
    },
    ssoLogin: (browser, silent = false) => authorize(browser, false, false, silent),
    startOnly: () => authorize(new PersonBrowser(++people), true, true),
  };
}

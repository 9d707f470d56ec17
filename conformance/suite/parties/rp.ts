/**
 * The suite's OpenID Connect relying party: a client the operator registered in the deployment
 * (client id, secret, redirect URI). It speaks raw HTTP on purpose — a conformance RP must be able to
 * send what a careful library would refuse to send (no PKCE, plain PKCE, a wrong verifier, a bad DPoP proof).
 *
 * - Nothing needs to listen on the redirect URI: the suite's browser stops when it is redirected there.
 * - ID tokens are verified with jose against the deployment's JWKS (signature, iss, aud, exp, nonce).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

/** The client the operator registered for the suite. */
export interface RpClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Registered post_logout_redirect_uri. */
  postLogoutRedirectUri: string;
  scope: string;
  /** A second registered redirect URI on another host, under the client's sector_identifier_uri (OIDC-RPI-01). */
  alternateRedirectUri?: string;
}

/** An authorization request the suite made. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  verifier: string;
}

/** A JSON answer of a back-channel endpoint. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

/** What the OP's discovery document says (the fields the RP uses). */
export type Discovery = Record<string, unknown> & {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
};

/** base64url(SHA-256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A random URL-safe value of `bytes` bytes. */
export function randomValue(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** The suite's RP bound to one deployment. */
export class SuiteRp {
  readonly client: RpClient;
  readonly discovery: Discovery;
  #jwks: JSONWebKeySet | undefined;

  constructor(client: RpClient, discovery: Discovery) {
    this.client = client;
    this.discovery = discovery;
  }

  /**
   * A code-flow request with PKCE S256, state and nonce. `params` adds or overrides parameters; `null` removes one.
   *
   * @example const req = rp.authorization({ code_challenge_method: 'plain', code_challenge: null });
   */
  authorization(params: Record<string, string | null> = {}): AuthorizationRequest {
    const verifier = randomValue(32);
    const state = randomValue(16);
    const nonce = randomValue(16);
    const all: Record<string, string | null> = {
      client_id: this.client.clientId,
      response_type: 'code',
      scope: this.client.scope,
      redirect_uri: this.client.redirectUri,
      state,
      nonce,
      code_challenge: s256(verifier),
      code_challenge_method: 'S256',
      ...params,
    };
    const url = new URL(this.discovery.authorization_endpoint);
    for (const [k, v] of Object.entries(all)) if (v !== null) url.searchParams.set(k, v);
    return { url, state: all.state ?? state, nonce: all.nonce ?? nonce, verifier };
  }

  /**
   * POSTs to the token endpoint. Client authentication: `basic` (default), `post`, or `none`.
   *
   * @example await rp.token({ grant_type: 'authorization_code', code, redirect_uri, code_verifier });
   */
  async token(
    body: Record<string, string>,
    options: { auth?: 'basic' | 'post' | 'none'; secret?: string; headers?: Record<string, string> } = {},
  ): Promise<JsonAnswer> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...options.headers,
    };
    const form = new URLSearchParams(body);
    const secret = options.secret ?? this.client.clientSecret;
    const auth = options.auth ?? 'basic';
    if (auth === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.client.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    } else if (auth === 'post') {
      form.set('client_id', this.client.clientId);
      form.set('client_secret', secret);
    } else {
      form.set('client_id', this.client.clientId);
    }
    return jsonAnswer(
      await fetch(this.discovery.token_endpoint, {
        method: 'POST',
        headers,
        body: form,
        signal: AbortSignal.timeout(15_000),
      }),
    );
  }

  /** Exchanges a code with the request's verifier (the honest exchange). */
  exchange(
    code: string,
    request: AuthorizationRequest,
    extra: Record<string, string> = {},
    headers?: Record<string, string>,
  ): Promise<JsonAnswer> {
    return this.token(
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.client.redirectUri,
        code_verifier: request.verifier,
        ...extra,
      },
      { headers },
    );
  }

  /** Calls UserInfo (GET with the header by default). */
  async userinfo(
    accessToken: string,
    options: { method?: 'GET' | 'POST'; scheme?: string; headers?: Record<string, string> } = {},
  ): Promise<JsonAnswer> {
    const endpoint = String(this.discovery.userinfo_endpoint ?? '');
    const headers = {
      authorization: `${options.scheme ?? 'Bearer'} ${accessToken}`,
      accept: 'application/json',
      ...options.headers,
    };
    return jsonAnswer(
      await fetch(endpoint, { method: options.method ?? 'GET', headers, signal: AbortSignal.timeout(15_000) }),
    );
  }

  /**
   * RFC 7662 introspection of `token` as this client (basic authentication).
   *
   * @example (await rp.introspect(accessToken)).json.active; // false once the session is revoked
   */
  async introspect(token: string): Promise<JsonAnswer> {
    const { clientId, clientSecret } = this.client;
    return jsonAnswer(
      await fetch(String(this.discovery.introspection_endpoint ?? ''), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }),
        signal: AbortSignal.timeout(15_000),
      }),
    );
  }

  /** The deployment's JWKS (fetched once). */
  async jwks(): Promise<JSONWebKeySet> {
    if (this.#jwks === undefined) {
      const response = await fetch(this.discovery.jwks_uri, { signal: AbortSignal.timeout(15_000) });
      this.#jwks = (await response.json()) as JSONWebKeySet;
    }
    return this.#jwks;
  }

  /**
   * Verifies an ID token (signature against the JWKS, iss, aud, exp; nonce when given).
   *
   * @example const { payload, header } = await rp.verifyIdToken(tokens.id_token, req.nonce);
   */
  async verifyIdToken(
    idToken: string,
    nonce?: string,
  ): Promise<{ payload: JWTPayload; header: Record<string, unknown> }> {
    const header = decodeProtectedHeader(idToken) as Record<string, unknown>;
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(await this.jwks()), {
      issuer: this.discovery.issuer,
      audience: this.client.clientId,
    });
    if (nonce !== undefined && payload.nonce !== nonce) throw new Error(`nonce mismatch: ${String(payload.nonce)}`);
    return { payload, header };
  }
}

async function jsonAnswer(response: Response): Promise<JsonAnswer> {
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = { _raw: text.slice(0, 200) };
  }
  return { status: response.status, headers: response.headers, json };
}

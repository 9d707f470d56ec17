/**
 * The demo OIDC relying party (openid-client 6, node:http, 127.0.0.1).
 *
 * | route | does |
 * |---|---|
 * | `GET /` | "Log in with the gateway"; after a login the verified ID-token claims, its alg/kid, UserInfo |
 * | `GET /login` | authorization code flow: PKCE S256 + state + nonce kept in the session, redirect to the OP |
 * | `GET /login?acr=eidas3` | the same, asking for `acr_values=eidas3` (LoA high) |
 * | `GET /callback` | `authorizationCodeGrant` (client_secret_basic), ID token signature checked against the JWKS, UserInfo, `fraud_score` (introspection) and the signed risk assessment (`/risk/assessment`, verified against the JWKS) |
 * | `GET /logout` | RP-initiated logout at the OP (`id_token_hint`, back to `/`) |
 *
 * - Discovery is lazy (the gateway may start after the RP) and retried until it succeeds (`RP_DISCOVERY_FAILED`).
 * - openid-client refuses http:// issuers; `allowInsecureRequests` is applied ONLY when the issuer is a
 *   loopback address (127.0.0.0/8, ::1, localhost) — any other http:// issuer fails discovery.
 * - `enableNonRepudiationChecks` makes openid-client verify the ID token's JWS against the OP's JWKS
 *   (by default it trusts the TLS channel to the token endpoint instead).
 * - An OP error on the callback (`?error=access_denied`) is shown on the page (400, `RP_AUTHORIZATION_ERROR`).
 */
import { compactVerify, createRemoteJWKSet } from 'jose';
import * as client from 'openid-client';
import { ConformanceError } from '../errors.ts';
import { redirect, sendHtml, serve } from '../http/server.ts';
import { LoginSessions } from './login-sessions.ts';
import { homePage } from './pages.ts';

/** Options of `startDemoRp`. */
export interface DemoRpOptions {
  /** TCP port on 127.0.0.1; 0 for any free port. */
  port: number;
  /** The OP's issuer identifier (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Registered redirect URI; default `http://127.0.0.1:<port>/callback`. */
  redirectUri?: string;
  /** Default `openid profile email`. */
  scope?: string;
  /** Optional `acr_values` to request (e.g. `eidas2`). */
  acrValues?: string;
  /** Expected ID-token `alg`; default: any the OP advertises in discovery. */
  idTokenSignedResponseAlg?: string;
  /** Observer of errors answered to the browser. */
  onError?: (error: ConformanceError) => void;
}

/** A running demo RP. */
export interface DemoRp {
  url: string;
  redirectUri: string;
  stop(): Promise<void>;
}

/**
 * Starts the demo RP.
 *
 * @example
 * const rp = await startDemoRp({ port: 0, issuer: 'http://127.0.0.1:3000', clientId: 'demo-rp', clientSecret: 's3cret' });
 * console.log(`open ${rp.url}`);
 * await rp.stop();
 */
export async function startDemoRp(options: DemoRpOptions): Promise<DemoRp> {
  const sessions = new LoginSessions();
  const scope = options.scope ?? 'openid profile birth email';
  let redirectUri = options.redirectUri ?? '';
  let discovering: Promise<client.Configuration> | undefined;
  const config = (): Promise<client.Configuration> => {
    discovering ??= discover(options).catch((cause: unknown) => {
      discovering = undefined;
      throw new ConformanceError('RP_DISCOVERY_FAILED', 502, `OpenID discovery of ${options.issuer} failed`, { cause });
    });
    return discovering;
  };

  const server = await serve(
    options.port,
    {
      'GET /': ({ req, res }) => sendHtml(res, 200, homePage(options.issuer, sessions.find(req))),
      'GET /login': async ({ res, url: here }) => {
        const codeVerifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        const parameters: Record<string, string> = {
          redirect_uri: redirectUri,
          scope,
          code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        };
        const asked = here.searchParams.get('acr');
        if (asked !== null && asked !== 'eidas3')
          throw new ConformanceError('RP_ACR_UNKNOWN', 400, 'the demo RP offers acr=eidas3 only');
        if (asked !== null) parameters.acr_values = asked;
        else if (options.acrValues !== undefined) parameters.acr_values = options.acrValues;
        const url = client.buildAuthorizationUrl(await config(), parameters);
        const { setCookie } = sessions.create({ pending: { codeVerifier, state, nonce } });
        redirect(res, url.href, { 'set-cookie': setCookie });
      },
      'GET /callback': async ({ req, res, rawQuery }) => {
        const session = sessions.find(req);
        const pending = session?.pending;
        if (session === undefined || pending === undefined) {
          throw new ConformanceError('RP_STATE_UNKNOWN', 400, 'no login in progress in this browser: start again');
        }
        delete session.pending;
        const currentUrl = new URL(redirectUri);
        currentUrl.search = rawQuery === '' ? '' : `?${rawQuery}`;
        let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
        try {
          tokens = await client.authorizationCodeGrant(await config(), currentUrl, {
            pkceCodeVerifier: pending.codeVerifier,
            expectedState: pending.state,
            expectedNonce: pending.nonce,
            idTokenExpected: true,
          });
        } catch (cause) {
          if (cause instanceof client.AuthorizationResponseError) {
            session.error = { error: cause.error, description: cause.error_description ?? null };
            delete session.result;
            const error = new ConformanceError('RP_AUTHORIZATION_ERROR', 400, `the OP answered ${cause.error}`, {
              cause,
            });
            options.onError?.(error);
            sendHtml(res, 400, homePage(options.issuer, session), { 'x-error-code': error.code });
            return;
          }
          if (cause instanceof ConformanceError) throw cause;
          throw new ConformanceError('RP_CALLBACK_FAILED', 502, 'the code exchange or the ID token check failed', {
            cause,
          });
        }
        const claims = tokens.claims();
        if (claims === undefined || tokens.id_token === undefined) {
          throw new ConformanceError('RP_CALLBACK_FAILED', 502, 'no ID token in the token response');
        }
        const header = JSON.parse(
          Buffer.from(tokens.id_token.split('.')[0] as string, 'base64url').toString('utf8'),
        ) as Record<string, unknown>;
        let userinfo: Record<string, unknown> | null = null;
        try {
          userinfo = { ...(await client.fetchUserInfo(await config(), tokens.access_token, claims.sub)) };
        } catch {
          userinfo = null; // The page still shows the verified ID token.
        }
        const { fraudScore, assessment } = await riskOf(await config(), options.issuer, tokens.access_token);
        session.result = { claims: { ...claims }, header, userinfo, idToken: tokens.id_token, fraudScore, assessment };
        delete session.error;
        delete session.loggedOut;
        redirect(res, '/');
      },
      'GET /logout': async ({ req, res }) => {
        const session = sessions.find(req);
        const idToken = session?.result?.idToken;
        if (session === undefined || idToken === undefined) {
          redirect(res, '/');
          return;
        }
        delete session.result;
        session.loggedOut = true;
        const url = client.buildEndSessionUrl(await config(), {
          id_token_hint: idToken,
          post_logout_redirect_uri: new URL('/', redirectUri).href,
        });
        redirect(res, url.href);
      },
    },
    options.onError,
  );
  redirectUri ||= `${server.origin}/callback`;
  return { url: server.origin, redirectUri, stop: () => server.stop() };
}

/**
 * What the gateway said about the risk of this login: `fraud_score` from token introspection, and the
 * signed assessment from `<issuer>/risk/assessment`, verified against the OP's JWKS. Either is null when the
 * OP does not give it (the page says so); a signature that does not verify is never shown as verified.
 */
async function riskOf(
  config: client.Configuration,
  issuer: string,
  accessToken: string,
): Promise<{ fraudScore: number | null; assessment: Record<string, unknown> | null }> {
  let fraudScore: number | null = null;
  try {
    const introspection = await client.tokenIntrospection(config, accessToken);
    fraudScore = typeof introspection.fraud_score === 'number' ? introspection.fraud_score : null;
  } catch {
    fraudScore = null;
  }
  let assessment: Record<string, unknown> | null = null;
  try {
    const response = await fetch(new URL('risk/assessment', issuer.endsWith('/') ? issuer : `${issuer}/`), {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const jwksUri = config.serverMetadata().jwks_uri;
    if (response.ok && jwksUri) {
      const { payload } = await compactVerify(await response.text(), createRemoteJWKSet(new URL(jwksUri)));
      assessment = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    }
  } catch {
    assessment = null;
  }
  return { fraudScore, assessment };
}

async function discover(options: DemoRpOptions): Promise<client.Configuration> {
  const issuer = new URL(options.issuer);
  const execute = [client.enableNonRepudiationChecks];
  if (issuer.protocol === 'http:' && isLoopback(issuer.hostname)) execute.push(client.allowInsecureRequests);
  const metadata: Partial<client.ClientMetadata> = { client_secret: options.clientSecret };
  if (options.idTokenSignedResponseAlg !== undefined)
    metadata.id_token_signed_response_alg = options.idTokenSignedResponseAlg;
  return client.discovery(issuer, options.clientId, metadata, client.ClientSecretBasic(options.clientSecret), {
    execute,
    timeout: 5,
  });
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts for which plain http is tolerated. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

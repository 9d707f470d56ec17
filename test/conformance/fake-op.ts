/**
 * A minimal OpenID Provider for the demo RP's tests (NOT the gateway): discovery, JWKS, a token endpoint
 * that checks client_secret_basic and the PKCE S256 verifier, UserInfo. ID tokens are ES256, signed with jose.
 * The authorization step is played by the test itself (it reads the RP's redirect and calls the callback).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/** What the test sets up before the RP calls the token endpoint. */
export interface Grant {
  code: string;
  codeChallenge: string;
  nonce: string;
  claims: Record<string, unknown>;
}

/** A running fake OP. */
export interface FakeOp {
  issuer: string;
  grants: Map<string, Grant>;
  /** When true, the JWKS serves an unrelated key: ID tokens must then fail verification. */
  serveUnrelatedJwks: boolean;
  /** Token requests seen (Authorization header and form). */
  tokenRequests: { authorization: string | undefined; form: URLSearchParams }[];
  stop(): Promise<void>;
}

/** Starts the fake OP for one client. */
export async function startFakeOp(clientId: string, clientSecret: string): Promise<FakeOp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'fake-op-es256', alg: 'ES256', use: 'sig' };
  const unrelated = {
    ...(await exportJWK((await generateKeyPair('ES256')).publicKey)),
    kid: 'fake-op-es256',
    alg: 'ES256',
    use: 'sig',
  };
  const grants = new Map<string, Grant>();
  const tokenRequests: FakeOp['tokenRequests'] = [];
  let issuer = '';
  // eslint-disable-next-line prefer-const -- assigned once the server listens, read by the handler
  let op: FakeOp;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', issuer);
        const json = (status: number, body: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(body));
        };
        if (url.pathname === '/.well-known/openid-configuration') {
          return json(200, {
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            userinfo_endpoint: `${issuer}/me`,
            jwks_uri: `${issuer}/jwks`,
            response_types_supported: ['code'],
            subject_types_supported: ['pairwise'],
            id_token_signing_alg_values_supported: ['ES256'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['client_secret_basic'],
          });
        }
        if (url.pathname === '/jwks') return json(200, { keys: [op.serveUnrelatedJwks ? unrelated : jwk] });
        if (url.pathname === '/token' && req.method === 'POST') {
          const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
          tokenRequests.push({ authorization: req.headers.authorization, form });
          if (!basicAuthMatches(req.headers.authorization, clientId, clientSecret))
            return json(401, { error: 'invalid_client' });
          const grant = grants.get(form.get('code') ?? '');
          const verifier = form.get('code_verifier') ?? '';
          if (
            grant === undefined ||
            createHash('sha256').update(verifier).digest('base64url') !== grant.codeChallenge
          ) {
            return json(400, { error: 'invalid_grant' });
          }
          grants.delete(grant.code);
          const idToken = await sign(privateKey, jwk.kid, { ...grant.claims, nonce: grant.nonce }, issuer, clientId);
          return json(200, {
            access_token: `at-${grant.code}`,
            token_type: 'Bearer',
            expires_in: 60,
            id_token: idToken,
          });
        }
        if (url.pathname === '/me') return json(200, { sub: 'pairwise-sub-1', given_name: 'Marie' });
        json(404, { error: 'not_found' });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  op = {
    issuer,
    grants,
    serveUnrelatedJwks: false,
    tokenRequests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return op;
}

/** RFC 6749 §2.3.1: Basic base64(form-urlencoded id ":" form-urlencoded secret). */
function basicAuthMatches(header: string | undefined, clientId: string, clientSecret: string): boolean {
  if (header?.startsWith('Basic ') !== true) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const formDecode = (v: string): string => decodeURIComponent(v.replaceAll('+', ' '));
  return (
    colon > 0 &&
    formDecode(decoded.slice(0, colon)) === clientId &&
    formDecode(decoded.slice(colon + 1)) === clientSecret
  );
}

function sign(
  key: CryptoKey,
  kid: string,
  claims: Record<string, unknown>,
  issuer: string,
  audience: string,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('pairwise-sub-1')
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(key);
}

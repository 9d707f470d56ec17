/**
 * A deliberately broken target, built for the test that proves the suite can fail: a reverse proxy in
 * front of an honest gateway (whose issuer, SP metadata and ACS all name the proxy) that emulates two
 * classic defects, and nothing else:
 *
 * - an OP that does not require PKCE and accepts `plain`: a request without a challenge gets one added
 *   (S256 of a fixed verifier, which the proxy adds to token requests that lack a verifier); a `plain`
 *   challenge is turned into the S256 of itself;
 * - an SP that skips the audience check: a Response whose Audience is absent or wrong is "fixed" to the
 *   gateway's entityID and re-signed with the IdP's key before the gateway sees it.
 *
 * The gateway itself is not weakened: it is the proxy that lies to it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import {
  NS,
  descendants,
  parseXml,
  removeOwnSignature,
  responseParts,
  serialize,
  child,
} from '../../conformance/saml-idp/hostile/dom.ts';
import { signSamlElement } from '../../conformance/saml-idp/hostile/sign.ts';
import { s256 } from '../../conformance/suite/parties/rp.ts';

const FIXED_VERIFIER = 'broken-target-fixed-verifier-0123456789abcdefghijklmnop';

/** What the proxy needs to know. */
export interface BrokenTargetOptions {
  port: number;
  /** Where the honest gateway listens. */
  upstream: string;
  /** The gateway's SP entityID (the Audience the proxy writes in). */
  spEntityId: () => Promise<string>;
  /** The IdP key the proxy re-signs with. */
  idpKey: { privateKeyPem: string; certPem: string };
}

/** Rewrites an authorization request URL as a PKCE-lax OP would accept it. */
export function laxPkce(url: URL): void {
  const method = url.searchParams.get('code_challenge_method');
  const challenge = url.searchParams.get('code_challenge');
  if (challenge === null) {
    url.searchParams.set('code_challenge', s256(FIXED_VERIFIER));
    url.searchParams.set('code_challenge_method', 'S256');
  } else if (method === 'plain') {
    url.searchParams.set('code_challenge', s256(challenge));
    url.searchParams.set('code_challenge_method', 'S256');
  }
}

/** Returns the Response with a correct Audience, re-signed — or undefined when it is fine or unreadable. */
export function fixAudience(xml: string, entityId: string, key: BrokenTargetOptions['idpKey']): string | undefined {
  try {
    const doc = parseXml(xml);
    const { response, assertion } = responseParts(doc);
    const conditions = child(assertion, NS.assertion, 'Conditions');
    if (conditions === undefined) return undefined;
    const audiences = descendants(conditions, NS.assertion, 'Audience');
    if (audiences.length === 1 && audiences[0]!.textContent === entityId) return undefined;
    for (const r of descendants(conditions, NS.assertion, 'AudienceRestriction')) conditions.removeChild(r);
    const restriction = doc.createElementNS(NS.assertion, 'saml:AudienceRestriction');
    restriction
      .appendChild(doc.createElementNS(NS.assertion, 'saml:Audience'))
      .appendChild(doc.createTextNode(entityId));
    conditions.appendChild(restriction);
    removeOwnSignature(assertion);
    removeOwnSignature(response);
    return signSamlElement(serialize(doc), { key, target: 'assertion' });
  } catch {
    return undefined;
  }
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Starts the proxy on 127.0.0.1.
 *
 * @example const proxy = await startBrokenTarget({ port, upstream: gatewayUrl, spEntityId, idpKey }); await proxy.stop();
 */
export async function startBrokenTarget(options: BrokenTargetOptions): Promise<{ stop(): Promise<void> }> {
  const upstream = new URL(options.upstream);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
      let payload = await body(req);
      if (req.method === 'GET' && url.pathname === '/auth') laxPkce(url);
      const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
        ? new URLSearchParams(payload.toString('utf8'))
        : undefined;
      if (
        form !== undefined &&
        req.method === 'POST' &&
        url.pathname === '/token' &&
        form.get('grant_type') === 'authorization_code' &&
        !form.has('code_verifier')
      ) {
        form.set('code_verifier', FIXED_VERIFIER);
        payload = Buffer.from(form.toString());
      }
      if (form !== undefined && req.method === 'POST' && url.pathname === '/saml/acs' && form.has('SAMLResponse')) {
        const xml = Buffer.from(form.get('SAMLResponse') ?? '', 'base64').toString('utf8');
        const fixed = fixAudience(xml, await options.spEntityId(), options.idpKey);
        if (fixed !== undefined) {
          form.set('SAMLResponse', Buffer.from(fixed, 'utf8').toString('base64'));
          payload = Buffer.from(form.toString());
        }
      }
      const headers = { ...req.headers, 'content-length': String(payload.length) };
      const upstreamReq = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: `${url.pathname}${url.search}`,
          headers,
        },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      upstreamReq.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstreamReq.end(payload);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The test eIDAS node as an HTTP server on 127.0.0.1, for end-to-end logins through the gateway:
 *
 * - GET  /metadata  its IdP metadata (PSS or ECDSA signing keys; `rollKey()` publishes a new one).
 * - POST /sso       receives the AuthnRequest (HTTP-POST), checks its RSA-PSS/ECDSA signature with the
 *                   signing keys of the gateway's published SP metadata, and shows a login form.
 * - POST /login     answers as the chosen person: the Assertion encrypted (AES-256-GCM, RSA-OAEP) to the
 *                   encryption certificate of the SP metadata, the Response signed, auto-posted to the ACS.
 */
import { constants, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import {
  eidasAssertionXml,
  eidasAttributes,
  eidasResponseXml,
  nodeKey,
  nodeMetadataXml,
  PSS_SHA256,
  signAsNode,
  type EidasPerson,
  type NodeKey,
} from './eidas-node.ts';
import { samlId } from './response-builder.ts';
import { encryptAssertion } from './xml-encrypt.ts';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';

export interface EidasNodeServer {
  url: string;
  /** PEM certificate of the federation key that signs the node's metadata (the trust anchor). */
  trustAnchorPem: string;
  /** Makes the published metadata expire at `at` (default: a day ahead). */
  setValidUntil(at: Date): void;
  metadataUrl: string;
  entityId: string;
  key: NodeKey;
  metadataXml(): string;
  /** Replaces the signing key and publishes only the new one. */
  rollKey(): Promise<void>;
  /** Requests received, as XML. */
  requests: string[];
  stop(): Promise<void>;
}

const VERIFY: Record<string, { hash: string; options: object }> = {
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1': {
    hash: 'sha256',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
};

async function spKeys(spMetadataUrl: string): Promise<{ signing: string[]; encryption: string }> {
  const doc = new DOMParser().parseFromString(await (await fetch(spMetadataUrl)).text(), 'text/xml');
  const out = { signing: [] as string[], encryption: '' };
  const descriptors = doc.getElementsByTagNameNS(MD, 'KeyDescriptor');
  for (let i = 0; i < descriptors.length; i += 1) {
    const d = descriptors.item(i)!;
    const body = d.getElementsByTagNameNS(DS, 'X509Certificate').item(0)!.textContent!.replace(/\s+/g, '');
    const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    if (d.getAttribute('use') === 'encryption') out.encryption = pem;
    else out.signing.push(pem);
  }
  return out;
}

function requestSignatureValid(xml: string, certificates: string[]): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS(DS, 'Signature').item(0);
  if (!signature) return false;
  return certificates.some((publicCert) => {
    const sig = new SignedXml({ publicCert, getCertFromKeyInfo: () => null });
    for (const [uri, { hash, options }] of Object.entries(VERIFY)) {
      (sig.SignatureAlgorithms as Record<string, unknown>)[uri] = class {
        getAlgorithmName = () => uri;
        verifySignature = (material: string, key: string, value: string) =>
          verify(hash, Buffer.from(material), { key: createPublicKey(key), ...options }, Buffer.from(value, 'base64'));
        getSignature = () => '';
      };
    }
    try {
      sig.loadSignature(signature as never);
      return sig.checkSignature(xml);
    } catch {
      return false;
    }
  });
}

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const esc = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Starts the node. `people` by username; `extra` adds attributes to every answer. */
export async function startEidasNode(options: {
  spMetadataUrl: string;
  people: Record<string, EidasPerson>;
  loa?: string;
}): Promise<EidasNodeServer> {
  let key = await nodeKey('rsa');
  const federation = await nodeKey('rsa', 'CN=Test eIDAS metadata trust anchor');
  let validUntil: Date | undefined;
  const pending = new Map<string, { id: string; acs: string; relayState: string; audience: string }>();
  const requests: string[] = [];
  let url = '';
  const metadata = () => {
    const id = samlId();
    const xml = nodeMetadataXml({
      id,
      entityId: `${url}/metadata`,
      ssoUrl: `${url}/sso`,
      signingCertificates: [key.certificatePem],
      validUntil: validUntil ?? new Date(Date.now() + 86_400_000),
      cacheDuration: 'PT1H',
    });
    return signAsNode(xml, { id, key: federation, method: PSS_SHA256, first: true });
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', url).pathname;
      if (req.method === 'GET' && path === '/metadata') {
        res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(metadata());
        return;
      }
      if (req.method === 'POST' && path === '/sso') {
        const fields = await form(req);
        const xml = Buffer.from(fields.get('SAMLRequest') ?? '', 'base64').toString('utf8');
        requests.push(xml);
        const sp = await spKeys(options.spMetadataUrl);
        if (!requestSignatureValid(xml, sp.signing)) {
          res.writeHead(400).end('AuthnRequest signature invalid');
          return;
        }
        const id = /\sID="([^"]+)"/.exec(xml)![1]!;
        const acs = /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)![1]!;
        const audience = /<saml:Issuer[^>]*>([^<]+)<\/saml:Issuer>/.exec(xml)![1]!;
        const token = samlId();
        pending.set(token, { id, acs, audience, relayState: fields.get('RelayState') ?? '' });
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            `<!doctype html><form method="post" action="/login"><input type="hidden" name="token" value="${token}">` +
              `<input name="username"><input name="password" type="password"><button>Log in</button></form>`,
          );
        return;
      }
      if (req.method === 'POST' && path === '/login') {
        const fields = await form(req);
        const request = pending.get(fields.get('token') ?? '');
        const person = options.people[fields.get('username') ?? ''];
        if (!request || !person) {
          res.writeHead(400).end('unknown login');
          return;
        }
        pending.delete(fields.get('token')!);
        const sp = await spKeys(options.spMetadataUrl);
        const now = new Date();
        const assertionId = samlId();
        const responseId = samlId();
        const assertion = eidasAssertionXml({
          id: assertionId,
          issuer: `${url}/metadata`,
          now,
          inResponseTo: request.id,
          acsUrl: request.acs,
          audience: request.audience,
          nameId: person.personIdentifier,
          loa: options.loa ?? 'http://eidas.europa.eu/LoA/high',
          attributes: eidasAttributes(person),
        });
        const body = encryptAssertion(assertion, sp.encryption);
        const response = signAsNode(
          eidasResponseXml({
            id: responseId,
            issuer: `${url}/metadata`,
            now,
            inResponseTo: request.id,
            destination: request.acs,
            body,
          }),
          { id: responseId, key, method: PSS_SHA256 },
        );
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            `<!doctype html><form method="post" action="${esc(request.acs)}"><input type="hidden" name="SAMLResponse" value="${Buffer.from(response).toString('base64')}">` +
              `<input type="hidden" name="RelayState" value="${esc(request.relayState)}"><button>Continue</button></form>`,
          );
        return;
      }
      res.writeHead(404).end();
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    get url() {
      return url;
    },
    get metadataUrl() {
      return `${url}/metadata`;
    },
    get entityId() {
      return `${url}/metadata`;
    },
    get key() {
      return key;
    },
    trustAnchorPem: federation.certificatePem,
    setValidUntil(at: Date) {
      validUntil = at;
    },
    metadataXml: metadata,
    async rollKey() {
      key = await nodeKey('rsa', 'CN=Test eIDAS node (rolled)');
    },
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** True when `pem` is the certificate of `key`. */
export function sameKey(pem: string, key: NodeKey): boolean {
  return new X509Certificate(pem).publicKey.equals(createPublicKey(key.privateKey));
}

/**
 * The suite's programmable eIDAS node (a Proxy-Service as the EU eIDAS-Node behaves), on 127.0.0.1:
 *
 * | route | does |
 * |---|---|
 * | `GET /metadata` | IdP metadata (entityID = this URL), RSA and EC signing certificates, SSO HTTP-POST; signed (RSA-PSS) by the federation key, `validUntil` one day ahead |
 * | `POST /sso` | the AuthnRequest: verified (one enveloped PSS/ECDSA signature over the root, by a signing key of the SP metadata, `AUTHN_REQUEST_SIGNATURE_INVALID`), kept, then a login form |
 * | `POST /login` | answers as the person: Assertion with eIDAS attributes and the requested LoA, encrypted (AES-256-GCM, RSA-OAEP) to the SP's encryption certificate, Response signed (RSA-PSS SHA-256), auto-posted to the ACS |
 *
 * Overrides (`setOverrides`) falsify one thing for the next logins: LoA, attributes, NameFormat,
 * encryption (off, CBC, rsa-1_5, OAEP-SHA256, truncated tag, …), which elements are signed and how.
 * There is no form field for them: the browser cannot switch the node into hostile mode.
 */
import { randomBytes } from 'node:crypto';
import { ConformanceError } from '../../errors.ts';
import { escapeHtml, hiddenInput, page } from '../../http/html.ts';
import { sendHtml, serve } from '../../http/server.ts';
import { parseXml } from '../hostile/dom.ts';
import { autoPostPage } from '../pages.ts';
import { assertWellFormedXml } from '../xml-guard.ts';
import { encryptAssertion, type EncryptionOptions } from './encrypt-assertion.ts';
import {
  assertionXml,
  EIDAS_LOA,
  ERIKA,
  nodeMetadataXml,
  personAttributes,
  responseXml,
  type EidasPerson,
} from './messages.ts';
import type { NodeKeys } from './node-keys.ts';
import { METHODS, SIG, signAsNode, verifyEnvelopedSignature } from './node-signature.ts';
import { readSpMetadata } from './sp-view.ts';

/** What a check can falsify in the node's next Responses. Unset = the honest eIDAS-Node behaviour. */
export interface EidasOverrides {
  /** AuthnContextClassRef (default: the LoA the request asked for). */
  loa?: string;
  /** Attributes merged over the person's (full URI → values; `null` removes one). */
  attributes?: Record<string, string[] | null>;
  /** NameFormat of every attribute (default uri). */
  nameFormat?: string;
  /** `false` sends the Assertion in clear; otherwise encryption options. */
  encrypt?: EncryptionOptions | false;
  /** Sign the Response (default true). */
  signResponse?: boolean;
  /** Sign the Assertion before encryption (default false). */
  signAssertion?: boolean;
  /** Signature method (default RSA-PSS SHA-256); the key follows the method (RSA or EC). */
  signatureMethod?: string;
}

/** Options of `startEidasNode`. */
export interface EidasNodeOptions {
  /** TCP port on 127.0.0.1 (0 = any). */
  port: number;
  /** Public base URL when proxied; default `http://127.0.0.1:<port>`. */
  baseUrl?: string;
  spMetadataUrl: string;
  keys: NodeKeys;
  /** People by username (password `<username>-demo`); default Erika. */
  people?: readonly EidasPerson[];
}

/** A running node. */
export interface EidasNode {
  url: string;
  /** = entityID. */
  metadataUrl: string;
  entityId: string;
  /** PEM of the metadata trust anchor (the federation key's certificate). */
  trustAnchorPem: string;
  /** AuthnRequests received (XML), latest last. */
  readonly requests: readonly string[];
  setOverrides(overrides: EidasOverrides | undefined): void;
  stop(): Promise<void>;
}

interface Pending {
  id: string;
  acs: string;
  audience: string;
  relayState: string | null;
  loa: string;
}

const newId = (): string => `_${randomBytes(20).toString('hex')}`;

function requestFields(xml: string): Omit<Pending, 'relayState'> {
  const root = parseXml(xml).documentElement;
  const id = root?.getAttribute('ID') ?? '';
  const acs = root?.getAttribute('AssertionConsumerServiceURL') ?? '';
  const issuer =
    root?.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer').item(0)?.textContent?.trim() ?? '';
  const loa =
    root
      ?.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'AuthnContextClassRef')
      .item(0)
      ?.textContent?.trim() ?? EIDAS_LOA.substantial;
  if (id === '' || issuer === '')
    throw new ConformanceError('AUTHN_REQUEST_MISSING', 400, 'the AuthnRequest has no ID or Issuer');
  return { id, acs, audience: issuer, loa };
}

/**
 * Starts the node.
 *
 * @example const node = await startEidasNode({ port: 0, spMetadataUrl, keys: await ensureNodeKeys(dir) }); node.setOverrides({ encrypt: false });
 */
export async function startEidasNode(options: EidasNodeOptions): Promise<EidasNode> {
  const people = options.people ?? [ERIKA];
  const pending = new Map<string, Pending>();
  const requests: string[] = [];
  let overrides: EidasOverrides | undefined;
  let base = options.baseUrl ?? '';
  const entityId = (): string => `${base}/metadata`;

  const metadata = (): string => {
    const id = newId();
    const xml = nodeMetadataXml({
      id,
      entityId: entityId(),
      ssoUrl: `${base}/sso`,
      signingCertificates: [options.keys.rsa.certificatePem, options.keys.ec.certificatePem],
      validUntil: new Date(Date.now() + 86_400_000),
    });
    return signAsNode(xml, { id, key: options.keys.federation, method: SIG.pssSha256, first: true });
  };

  const answer = async (request: Pending, person: EidasPerson): Promise<string> => {
    const o = overrides ?? {};
    const sp = await readSpMetadata(options.spMetadataUrl);
    const now = new Date();
    const assertionId = newId();
    const responseId = newId();
    const attributes: Record<string, string[]> = { ...personAttributes(person) };
    for (const [name, values] of Object.entries(o.attributes ?? {})) {
      if (values === null) delete attributes[name];
      else attributes[name] = values;
    }
    const methodUri = o.signatureMethod ?? SIG.pssSha256;
    const key = METHODS[methodUri]?.key === 'ec' ? options.keys.ec : options.keys.rsa;
    let assertion = assertionXml({
      id: assertionId,
      issuer: entityId(),
      now,
      inResponseTo: request.id,
      recipient: request.acs,
      audience: request.audience,
      nameId: person.personIdentifier,
      loa: o.loa ?? request.loa,
      attributes,
      ...(o.nameFormat === undefined ? {} : { nameFormat: o.nameFormat }),
    });
    if (o.signAssertion === true) assertion = signAsNode(assertion, { id: assertionId, key, method: methodUri });
    let body = assertion;
    if (o.encrypt !== false) {
      if (sp.encryptionCertificate === undefined)
        throw new ConformanceError(
          'SP_METADATA_INVALID',
          502,
          'the SP metadata has no encryption certificate (use="encryption")',
        );
      body = encryptAssertion(assertion, sp.encryptionCertificate, o.encrypt ?? {});
    }
    const response = responseXml({
      id: responseId,
      issuer: entityId(),
      now,
      inResponseTo: request.id,
      destination: request.acs,
      body,
    });
    return o.signResponse === false ? response : signAsNode(response, { id: responseId, key, method: methodUri });
  };

  const server = await serve(options.port, {
    'GET /': ({ res }) =>
      sendHtml(
        res,
        200,
        page(
          'Conformance eIDAS node',
          `<p>eIDAS Proxy-Service of the conformance suite. Metadata: <code>${escapeHtml(entityId())}</code></p>`,
        ),
      ),
    'GET /metadata': ({ res }) => {
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml', 'cache-control': 'no-store' });
      res.end(metadata());
    },
    'POST /sso': async ({ res, form }) => {
      const encoded = form.get('SAMLRequest');
      if (encoded === null || encoded === '')
        throw new ConformanceError('AUTHN_REQUEST_MISSING', 400, 'no SAMLRequest');
      const xml = Buffer.from(encoded, 'base64').toString('utf8');
      assertWellFormedXml(xml);
      requests.push(xml);
      const sp = await readSpMetadata(options.spMetadataUrl);
      if (!verifyEnvelopedSignature(xml, sp.signingCertificates))
        throw new ConformanceError(
          'AUTHN_REQUEST_SIGNATURE_INVALID',
          400,
          'the AuthnRequest is not signed (RSA-PSS or ECDSA) by a key of the SP metadata',
        );
      const fields = requestFields(xml);
      if (!sp.acsUrls.includes(fields.acs))
        throw new ConformanceError(
          'AUTHN_REQUEST_ACS_MISMATCH',
          400,
          'AssertionConsumerServiceURL is not an ACS of the SP metadata',
        );
      const token = randomBytes(16).toString('hex');
      pending.set(token, { ...fields, relayState: form.get('RelayState') });
      sendHtml(
        res,
        200,
        page(
          'Conformance eIDAS node — sign in',
          `<form method="post" action="/login">${hiddenInput('token', token)}
<label>User <input name="username" value="${escapeHtml(people[0]?.username ?? '')}"></label>
<label>Password <input name="password" type="password"></label>
<p class="note">Users: ${people.map((p) => `${escapeHtml(p.username)} / ${escapeHtml(p.username)}-demo`).join(', ')}</p>
<button type="submit">Sign in</button></form>`,
        ),
      );
    },
    'POST /login': async ({ res, form }) => {
      const request = pending.get(form.get('token') ?? '');
      if (request === undefined) throw new ConformanceError('AUTHN_REQUEST_UNKNOWN', 400, 'unknown or used login');
      const person = people.find(
        (p) => p.username === form.get('username') && `${p.username}-demo` === form.get('password'),
      );
      if (person === undefined)
        throw new ConformanceError('LOGIN_BAD_CREDENTIALS', 401, 'unknown user or wrong password');
      pending.delete(form.get('token') ?? '');
      const xml = await answer(request, person);
      sendHtml(res, 200, autoPostPage(request.acs, Buffer.from(xml, 'utf8').toString('base64'), request.relayState));
    },
  });
  if (base === '') base = server.origin;
  return {
    get url() {
      return base;
    },
    get metadataUrl() {
      return entityId();
    },
    get entityId() {
      return entityId();
    },
    trustAnchorPem: options.keys.federation.certificatePem,
    requests,
    setOverrides: (o) => {
      overrides = o;
    },
    stop: () => server.stop(),
  };
}

/**
 * Which HSM key signs what we send one IdP (AuthnRequests, our LogoutRequests and LogoutResponses), chosen
 * per message from the IdP's current metadata and its `requestSigningAlgorithm` setting:
 *
 * - an algorithm name (`RS256`, `PS256`, `ES256`, `ES384`, `EdDSA`: the XML-DSig rows of the `hsm/` registry):
 *   the active `saml` key of that algorithm. Boot checks that one is active (`saml-build.ts`); if none is
 *   when a message is signed (every one destroyed since), `SAML_SIGNING_KEY_UNAVAILABLE`, never another one.
 * - `metadata` (the default): the first SignatureMethod the IdP declares in its metadata
 *   (`alg:SigningMethod`, SAML V2.0 Metadata Profile for Algorithm Support; the IdP's order of preference)
 *   that is allowed for its profile and has an active `saml` key; an IdP that declares none we can use gets
 *   the profile's default (`fallback`: legacy, the key store's first `saml` key, RSA; eIDAS, the first PSS
 *   or ECDSA one). So an IdP that declares ECDSA gets ECDSA, and a legacy IdP stays on RSA.
 * - Looked up per message: a rotation (next → active) is followed at once, with the new key's certificate
 *   (made once per key in the HSM, the same on every instance: `LifecycleKeyStore.certificate`).
 * - Only the profile's allowed SignatureMethods are ever chosen (eIDAS: PSS and ECDSA, EID-R6).
 */
import { XML_DSIG_ALGORITHMS, xmlDsigAlgorithm, type TokenAlgorithmName } from '../../hsm/algorithms.ts';
import type { Signer } from '../../hsm/signer.ts';
import { samlError } from './errors.ts';
import type { IdpMetadata } from './idp-metadata.ts';

export type RequestSigningSetting = 'metadata' | TokenAlgorithmName;

/** The values of an IdP's `requestSigningAlgorithm`: `metadata`, then every XML-DSig row of the registry. */
export const REQUEST_SIGNING_SETTINGS: readonly ['metadata', ...TokenAlgorithmName[]] = Object.freeze([
  'metadata' as const,
  ...XML_DSIG_ALGORITHMS.map((row) => row.name),
]);

export interface SigningChoice {
  signer: Signer;
  certificatePem: string;
}

/** What signs one IdP's messages. */
export interface RequestSigning {
  /** The key (and its certificate) for a message to this IdP, from its current metadata. */
  forMessage(metadata: Pick<IdpMetadata, 'signingMethods'>): Promise<SigningChoice>;
}

export interface RequestSigningOptions {
  idp: string;
  setting: RequestSigningSetting;
  /** SignatureMethod URIs this IdP's profile allows us to sign with. */
  allowed: readonly string[];
  keys: { activeSigners(purpose: 'saml'): Signer[] };
  /** The profile's default key when the metadata names nothing we can use (undefined: none). */
  fallback: (signers: Signer[]) => Signer | undefined;
  /** The certificate of a `saml` key (made once per key). */
  certificateOf: (signer: Signer) => Promise<string>;
}

/**
 * The key of a legacy IdP whose metadata declares no usable SignatureMethod: RSA, as every legacy SAML stack
 * verifies it — RS256 first, then another RSA key (PS256) —, whatever order the key store lists its keys in;
 * only a token with no RSA `saml` key at all falls back to its first usable key.
 */
export function legacyFallback(usable: readonly Signer[]): Signer | undefined {
  return usable.find((s) => s.alg === 'RS256') ?? usable.find((s) => s.alg.startsWith('PS')) ?? usable[0];
}

/**
 * @example
 * const signing = requestSigning({ idp: 'idp-a', setting: 'metadata', allowed: DEFAULT_SIGNATURE_METHODS, keys,
 *   fallback: (signers) => signers[0], certificateOf });
 * const { signer, certificatePem } = await signing.forMessage(metadata.current()!);
 */
export function requestSigning(options: RequestSigningOptions): RequestSigning {
  const certificates = new Map<string, Promise<string>>();
  const certificateOf = (signer: Signer): Promise<string> => {
    let pem = certificates.get(signer.kid);
    if (!pem) {
      pem = options.certificateOf(signer);
      pem.catch(() => certificates.delete(signer.kid));
      certificates.set(signer.kid, pem);
    }
    return pem;
  };
  const usable = () =>
    options.keys
      .activeSigners('saml')
      .filter((s) => options.allowed.includes(xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod));
  const unavailable = (detail: string) =>
    samlError('SAML_SIGNING_KEY_UNAVAILABLE', { detail: `idp ${options.idp}: ${detail}` });

  const choose = (metadata: Pick<IdpMetadata, 'signingMethods'>): Signer => {
    const signers = usable();
    if (options.setting !== 'metadata') {
      const signer = signers.find((s) => s.alg === options.setting);
      if (!signer) throw unavailable(`no active ${options.setting} saml key`);
      return signer;
    }
    for (const uri of metadata.signingMethods ?? []) {
      const signer = signers.find((s) => xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod === uri);
      if (signer) return signer;
    }
    const signer = options.fallback(signers);
    if (!signer) throw unavailable('no active saml key of an allowed algorithm');
    return signer;
  };

  return {
    async forMessage(metadata) {
      const signer = choose(metadata);
      return { signer, certificatePem: await certificateOf(signer) };
    },
  };
}

/** A fixed key and certificate (adapters built without the key store's lifecycle: tests, tools). */
export function fixedSigning(choice: () => SigningChoice): RequestSigning {
  return { forMessage: async () => choice() };
}

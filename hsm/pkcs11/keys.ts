/**
 * Key objects on the token: generation, listing, and reading what may be read.
 *
 * - Private keys are generated on the token with CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE = true and
 *   CKA_EXTRACTABLE = false; they can sign and nothing else (decryption keys: decrypt and nothing else). CKA_ID and CKA_LABEL are set on both halves.
 * - Only public attributes are ever read (modulus/exponent, EC point), plus the private key's flags.
 */
import pkcs11js from 'pkcs11js';
import type { KeySpec } from '../algorithms.ts';
import { HsmError, pkcs11ReturnValue } from '../errors.ts';
import type { Handle } from './module.ts';
import { findObjects } from './find.ts';
import { EC_PARAMS } from '../pkcs11-numbers.ts';
import type { TokenKeyObject } from './key-object.ts';
import type { Pkcs11Token } from './token.ts';

export type { TokenKeyObject } from './key-object.ts';

/** Security-relevant flags of a private key. */
export interface KeyFlags {
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
}

function keyAttributes(spec: KeySpec): { pub: pkcs11js.Template; common: pkcs11js.Template } {
  const common = [{ type: pkcs11js.CKA_KEY_TYPE, value: spec.keyType }];
  if (spec.kty === 'RSA') {
    const exponent = Buffer.from([0x01, 0x00, 0x01]);
    return {
      common,
      pub: [
        { type: pkcs11js.CKA_MODULUS_BITS, value: spec.modulusBits },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: exponent },
      ],
    };
  }
  return { common, pub: [{ type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS[spec.crv] }] };
}

/**
 * Generates a non-extractable key pair for `spec` on the token, off the event loop.
 *
 * @throws HsmError `HSM_KEYGEN_FAILED`
 */
export async function generateKeyPair(
  token: Pkcs11Token,
  spec: KeySpec,
  id: Buffer,
  label: string,
  usage: 'sign' | 'decrypt' = 'sign',
): Promise<TokenKeyObject> {
  const decrypt = usage === 'decrypt';
  const { pub, common } = keyAttributes(spec);
  const named = [
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_TOKEN, value: true },
  ];
  const publicTemplate = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    ...common,
    ...named,
    ...pub,
    { type: pkcs11js.CKA_PRIVATE, value: false },
    { type: pkcs11js.CKA_VERIFY, value: !decrypt },
    { type: pkcs11js.CKA_ENCRYPT, value: decrypt },
  ];
  const privateTemplate = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    ...common,
    ...named,
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_SIGN, value: !decrypt },
    { type: pkcs11js.CKA_DECRYPT, value: decrypt },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ];
  try {
    const pair = await token.runWritingObjects((session) =>
      token.lib.C_GenerateKeyPairAsync(session, { mechanism: spec.generation }, publicTemplate, privateTemplate),
    );
    return { handle: pair.privateKey, generation: token.generation, id, label };
  } catch (error) {
    if (error instanceof HsmError) throw error;
    throw new HsmError('HSM_KEYGEN_FAILED', 'the token could not generate the key pair', {
      detail: pkcs11ReturnValue(error),
      cause: error,
    });
  }
}

/** Every private key on the token whose CKA_LABEL starts with `labelPrefix`. */
export function listPrivateKeys(token: Pkcs11Token, labelPrefix: string): Promise<TokenKeyObject[]> {
  return token.run((session) => {
    const generation = token.generation;
    const handles = findObjects(token.lib, session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ]);
    const keys: TokenKeyObject[] = [];
    for (const handle of handles) {
      const [label, id] = token.lib.C_GetAttributeValue(session, handle, [
        { type: pkcs11js.CKA_LABEL },
        { type: pkcs11js.CKA_ID },
      ]);
      const text = label.value.toString('utf8');
      if (text.startsWith(labelPrefix)) keys.push({ handle, generation, id: Buffer.from(id.value), label: text });
    }
    return keys.sort((a, b) => a.label.localeCompare(b.label));
  });
}

/**
 * The public half (same CKA_ID) of a private key.
 *
 * @throws HsmError `HSM_KEY_NOT_FOUND` when there is not exactly one.
 */
export function findPublicKey(token: Pkcs11Token, id: Buffer): Promise<Handle> {
  return token.run((session) => {
    const found = findObjects(token.lib, session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_ID, value: id },
    ]);
    if (found.length !== 1) {
      throw new HsmError('HSM_KEY_NOT_FOUND', 'public key of a token key pair not found', {
        detail: `id=${id.toString('hex')} found=${found.length}`,
      });
    }
    return found[0];
  });
}

/** Reads public attributes (type → bytes) of an object. */
export function readAttributes(token: Pkcs11Token, handle: Handle, types: number[]): Promise<Buffer[]> {
  return token.run((session) =>
    token.lib
      .C_GetAttributeValue(
        session,
        handle,
        types.map((type) => ({ type })),
      )
      .map((attribute) => Buffer.from(attribute.value)),
  );
}

/** The sensitivity flags of a private key, as the token reports them. */
export async function readKeyFlags(token: Pkcs11Token, privateKey: TokenKeyObject): Promise<KeyFlags> {
  const types = [
    pkcs11js.CKA_SENSITIVE,
    pkcs11js.CKA_EXTRACTABLE,
    pkcs11js.CKA_ALWAYS_SENSITIVE,
    pkcs11js.CKA_NEVER_EXTRACTABLE,
  ];
  const [sensitive, extractable, alwaysSensitive, neverExtractable] = await token.withKey(
    privateKey,
    (session, handle) =>
      token.lib
        .C_GetAttributeValue(
          session,
          handle,
          types.map((type) => ({ type })),
        )
        .map((attribute) => Buffer.from(attribute.value)),
  );
  const flag = (value: Buffer): boolean => value.length > 0 && value[0] !== 0;
  return {
    sensitive: flag(sensitive),
    extractable: flag(extractable),
    alwaysSensitive: flag(alwaysSensitive),
    neverExtractable: flag(neverExtractable),
  };
}

/**
 * Refuses a private key of ours that was not born in the token as a key nobody can read: generated on the token
 * (`CKA_LOCAL`), sensitive and non-extractable from birth (`CKA_ALWAYS_SENSITIVE`, `CKA_NEVER_EXTRACTABLE`). A key
 * imported under one of our labels (its private part known to whoever imported it), or one that was ever
 * extractable, would sign as the gateway with a copy somewhere else.
 *
 * @throws HsmError `HSM_KEY_PROVENANCE`, naming the label and the flags that fail
 */
export async function requireBornInTheToken(token: Pkcs11Token, privateKey: TokenKeyObject): Promise<void> {
  const flags = await readKeyFlags(token, privateKey);
  // a module that cannot say (CKR_ATTRIBUTE_TYPE_INVALID) proves nothing: refused with the others
  const [local] = await token
    .withKey(privateKey, (session, handle) =>
      token.lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LOCAL }]).map((a) => Buffer.from(a.value)),
    )
    .catch((): Buffer[] => []);
  const born = local !== undefined && local.length > 0 && local[0] !== 0;
  const failing = [
    ...(born ? [] : ['CKA_LOCAL']),
    ...(flags.alwaysSensitive && flags.sensitive ? [] : ['CKA_ALWAYS_SENSITIVE']),
    ...(flags.neverExtractable && !flags.extractable ? [] : ['CKA_NEVER_EXTRACTABLE']),
  ];
  if (failing.length > 0)
    throw new HsmError('HSM_KEY_PROVENANCE', 'a key on the token was not generated there as a key nobody can read', {
      detail: `label=${privateKey.label} failing=${failing.join(',')}`,
    });
}

/**
 * Destroys both halves (every object with this CKA_ID) of a key pair on the token. Irreversible.
 *
 * @returns how many objects were destroyed.
 */
export function destroyKeyPair(token: Pkcs11Token, id: Buffer): Promise<number> {
  return token.runWritingObjects((session) => {
    const found = findObjects(token.lib, session, [
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ]);
    for (const handle of found) token.lib.C_DestroyObject(session, handle);
    return found.length;
  });
}

/**
 * Reads a token public key as a JWK (RFC 7517/7518/8037) and checks that it is the key its algorithm
 * row expects (key type, curve, modulus size); a mismatch throws `HSM_KEY_MISMATCH`.
 *
 * - RSA: `n` and `e` from CKA_MODULUS and CKA_PUBLIC_EXPONENT.
 * - EC and Ed25519: CKA_EC_POINT is a DER OCTET STRING around the point (uncompressed 04‖x‖y, or the
 *   32-byte Ed25519 key); some tokens return the bare point, which is accepted too.
 */
import { compactVerify, importJWK, type JWK } from 'jose';
import pkcs11js from 'pkcs11js';
import type { KeySpec } from '../algorithms.ts';
import { HsmError } from '../errors.ts';
import type { JsonWebKeyPublic } from '../signer.ts';
import { readAttributes } from './keys.ts';
import type { TokenKeyObject } from './key-object.ts';
import type { Handle } from './module.ts';
import { EC_PARAMS } from '../pkcs11-numbers.ts';
import type { Pkcs11Token } from './token.ts';

/** A public JWK before `kid`, `alg` and `use` are added. */
export type BareJwk = Omit<JsonWebKeyPublic, 'kid' | 'alg' | 'use'>;

const COORDINATE_BYTES = { 'P-256': 32, 'P-384': 48 } as const;

const b64u = (bytes: Buffer): string => bytes.toString('base64url');

function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return bytes.subarray(start);
}

/** The point inside CKA_EC_POINT, given the length the bare point must have. */
export function unwrapEcPoint(value: Buffer, pointLength: number): Buffer {
  if (value.length === pointLength) return value;
  if (value[0] === 0x04) {
    let offset = 2;
    let length = value[1];
    if (length === 0x81) {
      length = value[2];
      offset = 3;
    }
    if (length === pointLength && value.length === offset + length) return value.subarray(offset);
  }
  throw new HsmError('HSM_KEY_MISMATCH', 'unexpected CKA_EC_POINT encoding', {
    detail: `length=${value.length} expected point=${pointLength}`,
  });
}

function mismatch(detail: string): HsmError {
  return new HsmError('HSM_KEY_MISMATCH', 'the token key does not match its algorithm', { detail });
}

/**
 * The public JWK of the token public key `handle`, checked against `spec`.
 *
 * @throws HsmError `HSM_KEY_MISMATCH`
 */
export async function readPublicJwk(token: Pkcs11Token, handle: Handle, spec: KeySpec): Promise<BareJwk> {
  const [keyType] = await readAttributes(token, handle, [pkcs11js.CKA_KEY_TYPE]);
  if (keyType.readUIntLE(0, Math.min(keyType.length, 6)) !== spec.keyType)
    throw mismatch(`key type 0x${keyType.toString('hex')}`);
  if (spec.kty === 'RSA') {
    const [modulus, exponent] = await readAttributes(token, handle, [
      pkcs11js.CKA_MODULUS,
      pkcs11js.CKA_PUBLIC_EXPONENT,
    ]);
    const n = stripLeadingZeros(modulus);
    if (n.length * 8 !== spec.modulusBits) throw mismatch(`modulus ${n.length * 8} bits`);
    return { kty: 'RSA', n: b64u(n), e: b64u(stripLeadingZeros(exponent)) };
  }
  const [params, point] = await readAttributes(token, handle, [pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT]);
  if (!params.equals(EC_PARAMS[spec.crv])) throw mismatch(`CKA_EC_PARAMS ${params.toString('hex')}`);
  if (spec.kty === 'OKP') return { kty: 'OKP', crv: spec.crv, x: b64u(unwrapEcPoint(point, 32)) };
  const size = COORDINATE_BYTES[spec.crv];
  const bare = unwrapEcPoint(point, 1 + 2 * size);
  if (bare[0] !== 0x04) throw mismatch('compressed EC point');
  return { kty: 'EC', crv: spec.crv, x: b64u(bare.subarray(1, 1 + size)), y: b64u(bare.subarray(1 + size)) };
}

/**
 * Requires the public object read for a private key to be that key's own half: for RSA its modulus is the private
 * object's (`CKA_MODULUS`, readable on a sensitive key); for EC and EdDSA keys (which keep no public point on the
 * private object) a signature by the private key must verify under the public one (`probe`: a signer without
 * observer or guard). Anything else leaves the key out, `HSM_KEY_PROVENANCE`.
 */
export async function requireOneKeyPair(
  token: Pkcs11Token,
  privateKey: TokenKeyObject,
  jwk: BareJwk,
  probe: { alg: string; sign(data: Uint8Array): Promise<Uint8Array> } | null,
): Promise<void> {
  const refuse = (why: string) =>
    new HsmError('HSM_KEY_PROVENANCE', "a key's public object is not its own half", {
      detail: `label=${privateKey.label} ${why}`,
    });
  if (jwk.kty === 'RSA') {
    const [modulus] = await token.withKey(privateKey, (session, handle) =>
      token.lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_MODULUS }]).map((a) => Buffer.from(a.value)),
    );
    if (!modulus || b64u(stripLeadingZeros(modulus)) !== jwk.n) throw refuse('modulus differs');
    return;
  }
  if (!probe) throw refuse('no way to check it');
  const input = `${Buffer.from(JSON.stringify({ alg: probe.alg })).toString('base64url')}.${Buffer.from('key pair check').toString('base64url')}`;
  const signature = Buffer.from(await probe.sign(Buffer.from(input, 'ascii'))).toString('base64url');
  try {
    await compactVerify(`${input}.${signature}`, await importJWK({ ...jwk } as JWK, probe.alg));
  } catch {
    throw refuse('a signature by the private key does not verify under the public one');
  }
}

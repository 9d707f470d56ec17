/**
 * A software FIDO2 authenticator for unit tests of the ceremony rules: one ES256 key, assertions built
 * byte for byte as WebAuthn defines them (authenticatorData = rpIdHash ‖ flags ‖ counter; signature over
 * authenticatorData ‖ SHA-256(clientDataJSON)), with the origin, RP ID, counter and flags a test chooses;
 * and registrations with attestation `none`, packed self attestation, or packed with a batch certificate.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, verify, webcrypto } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { Attachment, StoredCredential } from '../../gateway/webauthn/credential-store.ts';
import type { AttestationPki } from './attestation-ca.ts';

export interface RegistrationInput {
  challenge: string;
  origin: string;
  rpId: string;
  attachment: Attachment;
  /** `none`, packed self attestation, or packed full attestation with this PKI's batch certificate. */
  attestation: 'none' | 'self' | AttestationPki;
  aaguid?: string;
  /** Whether the authenticator verified the person (PIN, biometrics): the UV flag (default true). */
  userVerified?: boolean;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

export interface AssertionInput {
  challenge: string;
  origin: string;
  rpId: string;
  counter: number;
  userVerified?: boolean;
  attachment?: Attachment;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16).toString('base64url');
  readonly #keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  #cose(): Uint8Array {
    const jwk = this.#keys.publicKey.export({ format: 'jwk' });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]);
    return isoCBOR.encode(cose);
  }

  /**
   * The credential as the gateway stores it after enrolment: by default a level-3 attested security key
   * enrolled long ago (past any cool-down); `extra` changes that.
   */
  stored(
    accountId: string,
    attachment: Attachment,
    counter = 0,
    extra: Partial<Pick<StoredCredential, 'level' | 'attestationFormat' | 'attestationRoot' | 'createdAt'>> = {},
  ): StoredCredential {
    return {
      credentialId: this.credentialId,
      accountId,
      publicKey: this.#cose(),
      counter,
      attachment,
      transports: ['usb'],
      userVerified: true,
      aaguid: '00000000-0000-0000-0000-000000000000',
      level: 3,
      attestationFormat: 'packed',
      createdAt: new Date('2020-01-01T00:00:00Z'),
      ...extra,
    };
  }

  /** A registration response (navigator.credentials.create), attested as `input.attestation` says. */
  async register(input: RegistrationInput): Promise<RegistrationResponseJSON> {
    const id = Buffer.from(this.credentialId, 'base64url');
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const aaguid = Buffer.from((input.aaguid ?? '00000000-0000-0000-0000-000000000000').replace(/-/g, ''), 'hex');
    const authData = Buffer.concat([
      sha256(input.rpId),
      Buffer.from([0x01 | (input.userVerified === false ? 0 : 0x04) | 0x40]),
      Buffer.alloc(4),
      aaguid,
      idLength,
      id,
      Buffer.from(this.#cose()),
    ]);
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.create', challenge: input.challenge, origin: input.origin, crossOrigin: false }),
    );
    const signed = Buffer.concat([authData, sha256(clientData)]);
    let fmt = 'none';
    let attStmt = new Map<string, unknown>();
    if (input.attestation === 'self') {
      fmt = 'packed';
      attStmt = new Map<string, unknown>([
        ['alg', -7],
        ['sig', new Uint8Array(sign('sha256', signed, this.#keys.privateKey))],
      ]);
    } else if (input.attestation !== 'none') {
      fmt = 'packed';
      const raw = new Uint8Array(
        await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, input.attestation.leafKey, signed),
      );
      attStmt = new Map<string, unknown>([
        ['alg', -7],
        ['sig', new Uint8Array(p1363ToDer(raw))],
        ['x5c', [input.attestation.leafDer]],
      ]);
    }
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', fmt],
        ['attStmt', attStmt],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['usb'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: input.attachment,
    };
  }

  /** This key's signature over `authData ‖ SHA-256(clientData)` (any bytes: the fuzzer signs what it mutated). */
  signAssertion(authData: Buffer, clientData: Buffer): Buffer {
    return sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#keys.privateKey);
  }

  /** Whether `signature` (DER, or r ‖ s) is this key's over `authData ‖ SHA-256(clientData)` (the fuzzer's oracle). */
  verifiesAssertion(
    authData: Buffer,
    clientData: Buffer,
    signature: Buffer,
    dsaEncoding: 'der' | 'ieee-p1363',
  ): boolean {
    return verify(
      'sha256',
      Buffer.concat([authData, sha256(clientData)]),
      { key: this.#keys.publicKey, dsaEncoding },
      signature,
    );
  }

  /** A signed assertion response. */
  assert(input: AssertionInput): AuthenticationResponseJSON {
    const flags = 0x01 | (input.userVerified === false ? 0 : 0x04);
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(input.counter);
    const authData = Buffer.concat([sha256(input.rpId), Buffer.from([flags]), counter]);
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge: input.challenge, origin: input.origin, crossOrigin: false }),
    );
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#keys.privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        authenticatorData: authData.toString('base64url'),
        clientDataJSON: clientData.toString('base64url'),
        signature: signature.toString('base64url'),
      },
      clientExtensionResults: {},
      authenticatorAttachment: input.attachment ?? 'cross-platform',
    };
  }
}

/** ECDSA r‖s (WebCrypto) → ASN.1 DER (packed attestation signatures are DER). */
function p1363ToDer(raw: Uint8Array): Buffer {
  const int = (bytes: Uint8Array) => {
    let b = Buffer.from(bytes);
    while (b.length > 1 && b[0] === 0 && !(b[1]! & 0x80)) b = b.subarray(1);
    if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const body = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

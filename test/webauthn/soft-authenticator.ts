/**
 * A software FIDO2 authenticator for unit tests of the ceremony rules: one ES256 key, assertions built
 * byte for byte as WebAuthn defines them (authenticatorData = rpIdHash ‖ flags ‖ counter; signature over
 * authenticatorData ‖ SHA-256(clientDataJSON)), with the origin, RP ID, counter and flags a test chooses.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { Attachment, StoredCredential } from '../../gateway/webauthn/credential-store.ts';

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

  /** The credential as the gateway stores it after enrolment. */
  stored(accountId: string, attachment: Attachment, counter = 0): StoredCredential {
    const jwk = this.#keys.publicKey.export({ format: 'jwk' });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2], [3, -7], [-1, 1],
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]);
    return { credentialId: this.credentialId, accountId, publicKey: isoCBOR.encode(cose), counter, attachment, transports: ['usb'], userVerified: true, aaguid: '00000000-0000-0000-0000-000000000000' };
  }

  /** A signed assertion response. */
  assert(input: AssertionInput): AuthenticationResponseJSON {
    const flags = 0x01 | (input.userVerified === false ? 0 : 0x04);
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(input.counter);
    const authData = Buffer.concat([sha256(input.rpId), Buffer.from([flags]), counter]);
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: input.challenge, origin: input.origin, crossOrigin: false }));
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#keys.privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: { authenticatorData: authData.toString('base64url'), clientDataJSON: clientData.toString('base64url'), signature: signature.toString('base64url') },
      clientExtensionResults: {},
      authenticatorAttachment: input.attachment ?? 'cross-platform',
    };
  }
}

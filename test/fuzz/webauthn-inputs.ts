/**
 * What both WebAuthn fuzzers share (webauthn-authenticate-doors.ts, webauthn-register-doors.ts): one input and
 * how it is sent, the hostile variants that are not about the answer's bytes (size, content type, another or no
 * login), and what a refusal must never move (the key's counter, the number of credentials).
 */
import { mutate } from './mutator.ts';
import { exchange } from './refusal.ts';
import type { AtDoor, WebAuthnBed } from './webauthn-bed.ts';

export const FORM = 'application/x-www-form-urlencoded';
export const ODD_TYPES = ['application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', ''];
export const b64url = (b: Buffer | Uint8Array) => Buffer.from(b).toString('base64url');
export const bytes = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64url') : Buffer.alloc(0));

/** A mutation of binary data (through the text mutator, one byte per character). */
export function mutateBytes(data: Buffer, random: () => number): Buffer {
  return Buffer.from(mutate(data.toString('latin1'), random), 'latin1');
}

/** One input: the form (or raw body), how it is sent, where. */
export interface Input {
  what: string;
  body: string;
  contentType: string;
  /** Another login's id, or none of ours. */
  uid?: string;
  withoutCookies?: boolean;
  query?: string;
}

export async function send(bed: WebAuthnBed, door: AtDoor, path: string, input: Input) {
  const uid = input.uid ?? door.uid;
  const target = new URL(
    `${bed.fx.url}/interaction/${uid}/webauthn/${path}${input.query ?? new URL(door.action).search}`,
  );
  return exchange(target, {
    method: 'POST',
    headers: {
      accept: 'text/html',
      ...(input.contentType ? { 'content-type': input.contentType } : {}),
      ...(input.withoutCookies ? {} : { cookie: door.browser.cookieHeader(target) }),
    },
    body: input.body,
  });
}

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The enrolled key's stored counter (a refusal never moves it). */
export async function storedCounter(bed: WebAuthnBed): Promise<number> {
  const { rows } = await bed.fx.gateway.services.pool.query<{ counter: string }>(
    'select counter from webauthn_credentials where credential_id = $1',
    [bed.key.credentialId],
  );
  return Number(rows[0]?.counter);
}

export async function credentialCount(bed: WebAuthnBed): Promise<number> {
  const { rows } = await bed.fx.gateway.services.pool.query<{ n: string }>(
    'select count(*) as n from webauthn_credentials where account_id = $1',
    [bed.accountId],
  );
  return Number(rows[0]?.n);
}

/** A hostile variant that is not about the answer's bytes: size, content type, another or no login. */
export function transportVariant(
  kind: number,
  valid: string,
  random: () => number,
  staleUid: string,
  extra: Record<string, string>,
): Input {
  switch (kind % 5) {
    case 0:
      return { what: 'huge body', body: form({ ...extra, response: valid + ' '.repeat(70_000) }), contentType: FORM };
    case 1:
      return {
        what: 'just under the limit',
        body: form({ ...extra, response: valid.slice(0, -1) + `,"x":"${'A'.repeat(60_000)}"}` }),
        contentType: FORM,
      };
    case 2:
      return {
        what: 'content type',
        body: random() < 0.5 ? form({ ...extra, response: valid }) : valid,
        contentType: ODD_TYPES[Math.floor(random() * ODD_TYPES.length)]!,
      };
    case 3:
      return { what: 'no cookies', body: form({ ...extra, response: valid }), contentType: FORM, withoutCookies: true };
    case 4:
      return {
        what: 'another login',
        body: form({ ...extra, response: valid }),
        contentType: FORM,
        uid: random() < 0.5 ? staleUid : 'A'.repeat(21),
      };
    default:
      throw new Error('unreachable: kind % 5');
  }
}

/**
 * Fuzzing the WebAuthn doors (issue #15) with the seeded mutator: `POST /interaction/:uid/webauthn/authenticate`
 * (the level-2 step-up) and `POST /interaction/:uid/webauthn/register` (enrolment), in the browser that holds
 * the login, against the live challenge. The answers are built byte for byte by a software authenticator and
 * mutated where a hostile client would: the JSON, clientDataJSON (signed again or not), authenticatorData and
 * the attestationObject's CBOR, the signature, the challenge (another, a stale one), origin, RP ID, type,
 * flags and counter, huge bodies, other content types, another or no pending login.
 *
 * A *problem*: a 5xx; a refusal without a registered code; an accepted answer the oracle (checking the bytes
 * itself) would not accept; a refusal that moved the key's counter or added a credential.
 */
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { SoftAuthenticator } from '../webauthn/soft-authenticator.ts';
import { count, summary, type FuzzSummary } from './endpoints.ts';
import { mutate, prng } from './mutator.ts';
import { exchange, refusalProblem } from './refusal.ts';
import { atAuthenticate, atRegister, optionsIn, rpIdHash, type AtDoor, type WebAuthnBed } from './webauthn-bed.ts';

const FORM = 'application/x-www-form-urlencoded';
const ODD_TYPES = ['application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', ''];
const b64url = (b: Buffer | Uint8Array) => Buffer.from(b).toString('base64url');
const bytes = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64url') : Buffer.alloc(0));

/** A mutation of binary data (through the text mutator, one byte per character). */
function mutateBytes(data: Buffer, random: () => number): Buffer {
  return Buffer.from(mutate(data.toString('latin1'), random), 'latin1');
}

/** One input: the form (or raw body), how it is sent, where. */
interface Input {
  what: string;
  body: string;
  contentType: string;
  /** Another login's id, or none of ours. */
  uid?: string;
  withoutCookies?: boolean;
  query?: string;
}

async function send(bed: WebAuthnBed, door: AtDoor, path: string, input: Input) {
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

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The enrolled key's stored counter (a refusal never moves it). */
async function storedCounter(bed: WebAuthnBed): Promise<number> {
  const { rows } = await bed.fx.gateway.services.pool.query<{ counter: string }>(
    'select counter from webauthn_credentials where credential_id = $1',
    [bed.key.credentialId],
  );
  return Number(rows[0]?.counter);
}

async function credentialCount(bed: WebAuthnBed): Promise<number> {
  const { rows } = await bed.fx.gateway.services.pool.query<{ n: string }>(
    'select count(*) as n from webauthn_credentials where account_id = $1',
    [bed.accountId],
  );
  return Number(rows[0]?.n);
}

/** A hostile variant that is not about the answer's bytes: size, content type, another or no login. */
function transportVariant(
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

/** An assertion whose parts a variant chose, signed by the key (or not). */
function assertionOf(
  bed: WebAuthnBed,
  parts: { authData: Buffer; clientData: Buffer; signature?: Buffer; id?: string },
): Record<string, unknown> {
  return {
    id: parts.id ?? bed.key.credentialId,
    rawId: parts.id ?? bed.key.credentialId,
    type: 'public-key',
    response: {
      authenticatorData: b64url(parts.authData),
      clientDataJSON: b64url(parts.clientData),
      signature: b64url(parts.signature ?? bed.key.signAssertion(parts.authData, parts.clientData)),
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'cross-platform',
  };
}

function authDataOf(rpId: string, flags: number, counter: number): Buffer {
  const c = Buffer.alloc(4);
  c.writeUInt32BE(counter >>> 0);
  return Buffer.concat([rpIdHash(rpId), Buffer.from([flags]), c]);
}

const clientDataOf = (type: string, challenge: string, origin: string) =>
  Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

/** The assertion variant of input `k` (0: the valid answer, as the authenticator gives it). */
function assertionVariant(
  bed: WebAuthnBed,
  k: number,
  challenge: string,
  stale: string,
  random: () => number,
): { what: string; response: string } {
  bed.counter.value += 1;
  const counter = bed.counter.value;
  const authData = authDataOf(bed.rp.rpId, 0x05, counter);
  const clientData = clientDataOf('webauthn.get', challenge, bed.rp.origin);
  const valid = () => JSON.stringify(assertionOf(bed, { authData, clientData }));
  const json = (what: string, a: Record<string, unknown>) => ({ what, response: JSON.stringify(a) });
  switch (k) {
    case 0:
      return { what: 'valid', response: valid() };
    case 1:
      return { what: 'JSON text', response: mutate(valid(), random) };
    case 2:
      return json(
        'clientDataJSON, signed again',
        assertionOf(bed, { authData, clientData: mutateBytes(clientData, random) }),
      );
    case 3: {
      const signature = bed.key.signAssertion(authData, clientData);
      return json(
        'clientDataJSON',
        assertionOf(bed, { authData, clientData: mutateBytes(clientData, random), signature }),
      );
    }
    case 4:
      return json(
        'authenticatorData, signed again',
        assertionOf(bed, { authData: mutateBytes(authData, random), clientData }),
      );
    case 5: {
      const signature = bed.key.signAssertion(authData, clientData);
      return json(
        'authenticatorData',
        assertionOf(bed, { authData: mutateBytes(authData, random), clientData, signature }),
      );
    }
    case 6:
      return json(
        'signature',
        assertionOf(bed, {
          authData,
          clientData,
          signature: mutateBytes(bed.key.signAssertion(authData, clientData), random),
        }),
      );
    case 7: {
      const other = random() < 0.5 ? stale : b64url(Buffer.from(mutate(challenge, random)));
      return json(
        'challenge',
        assertionOf(bed, { authData, clientData: clientDataOf('webauthn.get', other, bed.rp.origin) }),
      );
    }
    case 8: {
      const pick = Math.floor(random() * 6);
      const a = [
        assertionOf(bed, { authData, clientData: clientDataOf('webauthn.get', challenge, 'https://evil.example') }),
        assertionOf(bed, { authData: authDataOf('evil.example', 0x05, counter), clientData }),
        assertionOf(bed, { authData, clientData: clientDataOf('webauthn.create', challenge, bed.rp.origin) }),
        assertionOf(bed, { authData: authDataOf(bed.rp.rpId, 0x01, counter), clientData }), // no UV
        assertionOf(bed, { authData: authDataOf(bed.rp.rpId, 0x05, 0), clientData }), // counter back
        assertionOf(bed, { authData, clientData, id: new SoftAuthenticator().credentialId }),
      ][pick]!;
      return json(['origin', 'RP ID', 'type', 'UV', 'counter', 'credential'][pick]!, a);
    }
    default:
      throw new Error('unreachable: k in 0..8');
  }
}

/** How many accepted assertions carried the key's (r, s) in a DER that is not canonical. */
const lenient = { count: 0 };

/** r ‖ s (32 bytes each) of an ECDSA signature read as BER would (trailing bytes ignored), or null. */
function lenientRs(der: Buffer): Buffer | null {
  let at = 0;
  const length = (): number => {
    const first = der[at++] ?? 0;
    if (first < 0x80) return first;
    let value = 0;
    for (let i = 0; i < (first & 0x7f); i++) value = value * 256 + (der[at++] ?? 0);
    return value;
  };
  if (der[at++] !== 0x30) return null;
  length();
  const integer = (): Buffer | null => {
    if (der[at++] !== 0x02) return null;
    const n = length();
    let value = der.subarray(at, at + n);
    at += n;
    while (value.length > 32 && value[0] === 0) value = value.subarray(1);
    if (value.length > 32) return null;
    return Buffer.concat([Buffer.alloc(32 - value.length), value]);
  };
  const r = integer();
  const s = r && integer();
  return r && s ? Buffer.concat([r, s]) : null;
}

/**
 * What the gateway may accept: an assertion whose signature is the enrolled key's over the bytes sent, for
 * the issued challenge, this origin and RP ID, with user presence and verification, and a counter above
 * the stored one. Null when so; else why not.
 */
function assertionOracle(bed: WebAuthnBed, posted: string, challenge: string, stored: number): string | null {
  let a: { id?: unknown; response?: { authenticatorData?: unknown; clientDataJSON?: unknown; signature?: unknown } };
  try {
    a = JSON.parse(new URLSearchParams(posted).get('response') ?? '') as typeof a;
  } catch {
    return 'not JSON';
  }
  const authData = bytes(a.response?.authenticatorData);
  const clientData = bytes(a.response?.clientDataJSON);
  if (a.id !== bed.key.credentialId) return 'another credential';
  const signature = bytes(a.response?.signature);
  if (!bed.key.verifiesAssertion(authData, clientData, signature, 'der')) {
    // the same (r, s) in a DER that is not canonical (trailing bytes, a longer length or integer encoding):
    // not a forgery (the key signed these bytes), and the challenge is single use
    const rs = lenientRs(signature);
    if (!rs || !bed.key.verifiesAssertion(authData, clientData, rs, 'ieee-p1363')) return 'not signed by the key';
    lenient.count += 1;
  }
  let c: { type?: unknown; challenge?: unknown; origin?: unknown };
  try {
    c = JSON.parse(clientData.toString('utf8')) as typeof c;
  } catch {
    return 'clientDataJSON is not JSON';
  }
  if (c.type !== 'webauthn.get' || c.challenge !== challenge || c.origin !== bed.rp.origin)
    return `clientData ${JSON.stringify(c)}`;
  if (!authData.subarray(0, 32).equals(rpIdHash(bed.rp.rpId))) return 'RP ID hash';
  if (((authData[32] ?? 0) & 0x05) !== 0x05) return 'flags';
  if (authData.length < 37 || authData.readUInt32BE(33) <= stored) return 'counter';
  return null;
}

/**
 * POST /interaction/:uid/webauthn/authenticate. The attempts counter is reset before each input (the
 * answers are under test, not the three-attempts rule), except three inputs in fifty, which use it up: the
 * login then fails at the RP. An accepted answer ends the login (the oracle checks it): a fresh one follows.
 */
export async function fuzzWebAuthnAuthenticate(bed: WebAuthnBed, seed: number, n: number): Promise<FuzzSummary> {
  const s = summary('POST webauthn/authenticate');
  const random = prng(seed);
  const redis = bed.fx.gateway.services.redis;
  let door: AtDoor | undefined;
  let stale = '';
  let staleUid = 'none';
  const outcomes: Record<string, number> = {};
  for (let index = 0; index < n; index++) {
    if (!door) door = await atAuthenticate(bed);
    if (index % 50 < 47) await redis.del(`webauthn:attempts:${door.uid}`);
    const before = await storedCounter(bed);
    const k = Math.floor(random() * 11);
    const challenge = door.challenge;
    let input: Input;
    if (k < 9) {
      const v = assertionVariant(bed, k, challenge, stale, random);
      input = { what: v.what, body: form({ response: v.response }), contentType: FORM };
    } else
      input = transportVariant(
        Math.floor(random() * 5),
        assertionVariant(bed, 0, challenge, stale, random).response,
        random,
        staleUid,
        {},
      );
    const answer = await send(bed, door, 'authenticate', input);
    count(s, answer.status, answer.reset);
    const problem = refusalProblem(index, answer, false, s.codes);
    if (problem) {
      s.problems.push(`${problem} (${input.what})`);
      door = undefined;
      continue;
    }
    if (answer.status >= 400) {
      if ((await storedCounter(bed)) !== before)
        s.problems.push(`#${index}: a refusal (${input.what}) moved the counter`);
      stale = challenge;
      const next = optionsIn(answer.body)?.challenge;
      if (next) door.challenge = next;
      else {
        // refused before the challenge was taken (or with it): the page again gives a live one
        const page = await door.browser.request(door.action);
        const options = optionsIn(await page.text());
        if (options) door.challenge = options.challenge;
        else door = undefined;
      }
      continue;
    }
    // a redirect: the login ended, with a code (an accepted answer) or an error (attempts used up)
    if (!answer.location) {
      s.problems.push(`#${index}: HTTP ${answer.status} without a redirect (${input.what})`);
      door = undefined;
      continue;
    }
    const landing = await door.browser.follow(new URL(answer.location, door.action), {}, (u) =>
      u.toString().startsWith(RP_REDIRECT),
    );
    await landing.response.body?.cancel();
    const code = landing.url.searchParams.get('code');
    const error = landing.url.searchParams.get('error');
    if (code) {
      const why = assertionOracle(bed, input.body, challenge, before);
      if (why) s.problems.push(`#${index}: a code for an answer the oracle refuses (${input.what}: ${why})`);
      outcomes[`code (${input.what})`] = (outcomes[`code (${input.what})`] ?? 0) + 1;
      // a signed mutation of the counter bytes may have moved the stored counter far ahead: the authenticator
      // goes on from there (else every later answer is a WEBAUTHN_COUNTER_REGRESSION)
      bed.counter.value = Math.max(bed.counter.value, await storedCounter(bed));
      if (bed.counter.value > 2 ** 31) {
        // near the end of the 32-bit counter: the key starts again from 0 (the fuzzer's doing, not the gateway's)
        await bed.fx.gateway.services.pool.query(
          'update webauthn_credentials set counter = 0 where credential_id = $1',
          [bed.key.credentialId],
        );
        bed.counter.value = 0;
      }
    } else if (error === 'unmet_authentication_requirements' && index % 50 >= 47)
      outcomes['attempts exhausted'] = (outcomes['attempts exhausted'] ?? 0) + 1;
    else s.problems.push(`#${index}: HTTP ${answer.status} ended at ${landing.url} (${input.what})`);
    staleUid = door.uid;
    door = undefined;
  }
  Object.assign(s.statuses, outcomes);
  if (lenient.count > 0) s.accepted.push(`${lenient.count} accepted with the key's (r, s) in a non-canonical DER`);
  lenient.count = 0;
  return s;
}

/** A registration's parts, decoded: clientData bytes and the attestationObject's map. */
function decodeRegistration(r: RegistrationJSON): { clientData: Buffer; attestation: Map<string, unknown> } {
  return {
    clientData: bytes(r.response.clientDataJSON),
    attestation: isoCBOR.decodeFirst<Map<string, unknown>>(new Uint8Array(bytes(r.response.attestationObject))),
  };
}

type RegistrationJSON = Awaited<ReturnType<SoftAuthenticator['register']>>;

function withParts(
  r: RegistrationJSON,
  parts: { clientData?: Buffer; attestationObject?: Buffer; authData?: Buffer; fmt?: string; attStmt?: unknown },
): RegistrationJSON {
  const decoded = decodeRegistration(r);
  const map = new Map(decoded.attestation);
  if (parts.authData) map.set('authData', new Uint8Array(parts.authData));
  if (parts.fmt !== undefined) map.set('fmt', parts.fmt);
  if (parts.attStmt !== undefined) map.set('attStmt', parts.attStmt);
  const attestationObject = parts.attestationObject ?? Buffer.from(isoCBOR.encode(map as never));
  return {
    ...r,
    response: {
      ...r.response,
      clientDataJSON: b64url(parts.clientData ?? decoded.clientData),
      attestationObject: b64url(attestationObject),
    },
  };
}

/** The registration variant of input `k` (0: a new key's valid answer; 1: the enrolled key registering again). */
async function registrationVariant(
  bed: WebAuthnBed,
  k: number,
  challenge: string,
  stale: string,
  random: () => number,
): Promise<{ what: string; response: string }> {
  const fresh = new SoftAuthenticator();
  const input = (key: SoftAuthenticator, over: { challenge?: string; origin?: string; rpId?: string } = {}) =>
    key.register({
      challenge: over.challenge ?? challenge,
      origin: over.origin ?? bed.rp.origin,
      rpId: over.rpId ?? bed.rp.rpId,
      attachment: 'cross-platform',
      attestation: 'none',
    });
  const valid = await input(fresh);
  const { clientData, attestation } = decodeRegistration(valid);
  const authData = Buffer.from(attestation.get('authData') as Uint8Array);
  const json = (what: string, r: unknown) => ({ what, response: JSON.stringify(r) });
  switch (k) {
    case 0:
      return json('valid', valid);
    case 1:
      return json('the enrolled key again', await input(bed.key));
    case 2:
      return { what: 'JSON text', response: mutate(JSON.stringify(valid), random) };
    case 3:
      return json('clientDataJSON', withParts(valid, { clientData: mutateBytes(clientData, random) }));
    case 4:
      return json('authData in the CBOR', withParts(valid, { authData: mutateBytes(authData, random) }));
    case 5:
      return json(
        'attestationObject bytes',
        withParts(valid, { attestationObject: mutateBytes(bytes(valid.response.attestationObject), random) }),
      );
    case 6: {
      const fmts = ['packed', 'fido-u2f', 'tpm', 'android-key', 'apple', 'android-safetynet', 'none', 'x'];
      const stmts: unknown[] = [
        new Map(),
        new Map([['sig', new Uint8Array(8)]]),
        new Map<string, unknown>([
          ['alg', -7],
          ['x5c', []],
        ]),
        1,
      ];
      return json(
        'fmt',
        withParts(valid, {
          fmt: fmts[Math.floor(random() * fmts.length)]!,
          attStmt: stmts[Math.floor(random() * stmts.length)],
        }),
      );
    }
    case 7:
      return json(
        'challenge',
        await input(fresh, {
          challenge: random() < 0.5 && stale ? stale : b64url(Buffer.from(mutate(challenge, random))),
        }),
      );
    case 8: {
      const pick = Math.floor(random() * 7);
      const noUv = Buffer.from(authData);
      noUv[32] = (noUv[32] ?? 0) & ~0x04;
      const odd: unknown[] = ['usb', [1, {}], ['x'.repeat(5000)], null, { 0: 'usb' }];
      const r = [
        () => input(fresh, { origin: 'https://evil.example' }),
        () => input(fresh, { rpId: 'evil.example' }),
        () =>
          Promise.resolve(
            withParts(valid, {
              clientData: Buffer.from(clientData.toString('utf8').replace('webauthn.create', 'webauthn.get')),
            }),
          ),
        () => Promise.resolve(withParts(valid, { authData: noUv })),
        () => Promise.resolve({ ...valid, authenticatorAttachment: 'platform' }),
        () =>
          Promise.resolve({
            ...valid,
            response: { ...valid.response, transports: odd[Math.floor(random() * odd.length)] },
          }),
        () => Promise.resolve({ ...valid, id: bed.key.credentialId, rawId: bed.key.credentialId }),
      ][pick]!;
      return json(['origin', 'RP ID', 'type', 'UV', 'attachment', 'transports', 'id'][pick]!, await r());
    }
    default:
      throw new Error('unreachable: k in 0..8');
  }
}

/**
 * What the gateway may accept at enrolment: clientData of type webauthn.create for the issued challenge and
 * this origin, authenticator data for this RP ID with presence, verification and a credential, a credential id
 * not already registered. Null when so; else why not.
 */
function registrationOracle(
  bed: WebAuthnBed,
  posted: string,
  challenge: string,
  known: ReadonlySet<string>,
): string | null {
  let r: RegistrationJSON;
  let attestation: Map<string, unknown>;
  try {
    r = JSON.parse(new URLSearchParams(posted).get('response') ?? '') as RegistrationJSON;
    attestation = decodeRegistration(r).attestation;
  } catch {
    return 'not readable';
  }
  let c: { type?: unknown; challenge?: unknown; origin?: unknown };
  try {
    c = JSON.parse(bytes(r.response.clientDataJSON).toString('utf8')) as typeof c;
  } catch {
    return 'clientDataJSON is not JSON';
  }
  if (c.type !== 'webauthn.create' || c.challenge !== challenge || c.origin !== bed.rp.origin)
    return `clientData ${JSON.stringify(c)}`;
  const authData = Buffer.from((attestation.get('authData') as Uint8Array | undefined) ?? []);
  if (!authData.subarray(0, 32).equals(rpIdHash(bed.rp.rpId))) return 'RP ID hash';
  if (((authData[32] ?? 0) & 0x45) !== 0x45) return 'flags';
  const idLength = authData.length >= 55 ? authData.readUInt16BE(53) : 0;
  const id = b64url(authData.subarray(55, 55 + idLength));
  if (known.has(id)) return `credential ${id} already registered`;
  return null;
}

/**
 * POST /interaction/:uid/webauthn/register?level=2&kind=cross-platform (step=register), after a forced LoA-high
 * login whose grant the enrolled key confirmed. A refusal adds no credential; an accepted answer (the oracle
 * checks it) enrols one, which is then removed, and the next input gets a fresh grant.
 */
export async function fuzzWebAuthnRegister(bed: WebAuthnBed, seed: number, n: number): Promise<FuzzSummary> {
  const s = summary('POST webauthn/register');
  const random = prng(seed);
  const pool = bed.fx.gateway.services.pool;
  let door: AtDoor | undefined;
  let stale = '';
  let staleUid = 'none';
  let enrolled = 0;
  for (let index = 0; index < n; index++) {
    if (!door) door = await atRegister(bed);
    const challenge = door.challenge;
    const before = await credentialCount(bed);
    const known = new Set(
      (await pool.query<{ credential_id: string }>('select credential_id from webauthn_credentials')).rows.map(
        (r) => r.credential_id,
      ),
    );
    const k = Math.floor(random() * 11);
    let input: Input;
    if (k < 9) {
      const v = await registrationVariant(bed, k, challenge, stale, random);
      input = { what: v.what, body: form({ step: 'register', response: v.response }), contentType: FORM };
    } else {
      const valid = (await registrationVariant(bed, 0, challenge, stale, random)).response;
      const t = Math.floor(random() * 7);
      if (t < 5) input = transportVariant(t, valid, random, staleUid, { step: 'register' });
      else if (t === 5)
        input = {
          what: 'step',
          body: form(random() < 0.5 ? { response: valid } : { step: mutate('register', random), response: valid }),
          contentType: FORM,
        };
      else
        input = {
          what: 'query',
          body: form({ step: 'register', response: valid }),
          contentType: FORM,
          query: `?${mutate('level=2&kind=cross-platform', random)}`,
        };
    }
    const answer = await send(bed, door, 'register', input);
    count(s, answer.status, answer.reset);
    const problem = refusalProblem(index, answer, false, s.codes);
    if (problem) {
      s.problems.push(`${problem} (${input.what})`);
      door = undefined;
      continue;
    }
    if (answer.status >= 300) {
      if ((await credentialCount(bed)) !== before)
        s.problems.push(`#${index}: HTTP ${answer.status} (${input.what}) changed the account's credentials`);
      stale = challenge;
      const next = optionsIn(answer.body)?.challenge;
      if (next) door.challenge = next;
      else {
        const page = await door.browser.request(door.action);
        const options = optionsIn(await page.text());
        if (page.status === 200 && options) door.challenge = options.challenge;
        else door = undefined;
      }
      continue;
    }
    // 200: enrolled
    if (!/Security key added/.test(answer.body)) s.problems.push(`#${index}: HTTP 200 that is not an enrolment`);
    const why = registrationOracle(bed, input.body, challenge, known);
    if (why) s.problems.push(`#${index}: an enrolment the oracle refuses (${input.what}: ${why})`);
    enrolled += 1;
    await pool.query('delete from webauthn_credentials where account_id = $1 and credential_id <> $2', [
      bed.accountId,
      bed.key.credentialId,
    ]);
    staleUid = door.uid;
    door = undefined;
  }
  s.statuses.enrolled = enrolled;
  return s;
}

/**
 * Fuzzing the WebAuthn enrolment door (`POST /interaction/:uid/webauthn/register`): registrations (clientData,
 * the attestationObject's CBOR) mutated where a hostile client would, and the oracle that checks them itself
 * (webauthn-doors.ts says what a problem is).
 */
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { SoftAuthenticator } from '../webauthn/soft-authenticator.ts';
import { count, summary, type FuzzSummary } from './endpoints.ts';
import { mutate, prng } from './mutator.ts';
import { refusalProblem } from './refusal.ts';
import { atRegister, optionsIn, rpIdHash, type AtDoor, type WebAuthnBed } from './webauthn-bed.ts';
import {
  FORM,
  b64url,
  bytes,
  form,
  mutateBytes,
  send,
  credentialCount,
  transportVariant,
  type Input,
} from './webauthn-inputs.ts';

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

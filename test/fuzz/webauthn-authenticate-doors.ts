/**
 * Fuzzing the WebAuthn step-up door (`POST /interaction/:uid/webauthn/authenticate`): assertions built byte for
 * byte by a software authenticator and mutated where a hostile client would, and the oracle that checks the
 * bytes itself (webauthn-doors.ts says what a problem is).
 */
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { SoftAuthenticator } from '../webauthn/soft-authenticator.ts';
import { count, summary, type FuzzSummary } from './endpoints.ts';
import { mutate, prng } from './mutator.ts';
import { refusalProblem } from './refusal.ts';
import { atAuthenticate, optionsIn, rpIdHash, type AtDoor, type WebAuthnBed } from './webauthn-bed.ts';
import {
  FORM,
  b64url,
  bytes,
  form,
  mutateBytes,
  send,
  storedCounter,
  transportVariant,
  type Input,
} from './webauthn-inputs.ts';

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
 * Whether the gateway suspended the key (a signed answer whose counter did not grow: a clone); if so, the fuzzer
 * lifts the suspension (its own doing, so that the later inputs test the answers, not a suspended key).
 */
async function reinstatedIfSuspended(bed: WebAuthnBed): Promise<boolean> {
  const { rowCount } = await bed.fx.gateway.services.pool.query(
    'update webauthn_credentials set suspended_at = null, suspended_reason = null where credential_id = $1 and suspended_at is not null',
    [bed.key.credentialId],
  );
  return rowCount === 1;
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
      if (await reinstatedIfSuspended(bed)) {
        // only the key's own signature over a right answer whose counter did not grow may suspend it (a clone)
        const why = assertionOracle(bed, input.body, challenge, before);
        if (why !== 'counter')
          s.problems.push(`#${index}: the key was suspended for an answer that is not a signed clone's (${why})`);
        outcomes['suspended as a clone'] = (outcomes['suspended as a clone'] ?? 0) + 1;
      }
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

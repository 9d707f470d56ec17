/**
 * Issue #14: within one request, each record of the session store is read from Redis at most once
 * (`session/request-memo.ts`). A token request used to read the person's session three times (its uid,
 * then the session version for the access token and again for the refresh token) and the account twice
 * (`findAccount`, `extraTokenClaims`). What the request does with them is unchanged: the tokens work, and
 * a session revoked between two requests is refused by the next one (the memo does not outlive a request).
 * Real gateway in process, real Redis and PostgreSQL; Redis commands counted on ioredis's sendCommand.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { RecordCipher } from '../../../gateway/session/record-cipher.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let reads: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  const [command] = args;
  if (reads && command.name.toLowerCase() === 'hgetall') {
    const key = String(command.args[0]);
    if (key.includes('s2:')) reads.push(key);
  }
  return sendCommand.apply(this, args);
};

let opened: string[] | undefined;
const open = RecordCipher.prototype.open;
RecordCipher.prototype.open = function countedOpen(this: RecordCipher, recordKey: Buffer, sealed: string) {
  opened?.push(recordKey.toString('hex'));
  return open.call(this, recordKey, sealed);
};

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial('a token request reads each session-store record from Redis once', async (t) => {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  t.truthy(code);
  reads = [];
  const tokens = await redeem(bed, code!, request.verifier);
  const seen = reads;
  reads = undefined;
  t.true(seen.length >= 3, `the session, the grant and the account are read (${seen.length} reads)`);
  const twice = seen.filter((key, i) => seen.indexOf(key) !== i);
  t.deepEqual(twice, [], 'no record read twice in one request');
  t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
});

test.serial('a token request decrypts each session-store record at most once', async (t) => {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  opened = [];
  const tokens = await redeem(bed, journey.url.searchParams.get('code')!, request.verifier);
  const seen = opened;
  opened = undefined;
  // the session (findByUid) and the account (findAccount, extraTokenClaims) are read; the grant is not a
  // session-store read of oidc-provider's here but may be: whatever is read is opened once
  t.true(seen.length >= 2, `the session and the account are opened (${seen.length} opens)`);
  const twice = seen.filter((key, i) => seen.indexOf(key) !== i);
  t.deepEqual(twice, [], 'no record decrypted twice in one request');
  t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
});

test.serial('the memo does not outlive its request: a session revoked in between is refused', async (t) => {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const tokens = await redeem(bed, journey.url.searchParams.get('code')!, request.verifier);
  t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
  const { revoker } = bed.gateway.services.sessions;
  const sid = JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString()).sid as string;
  await revoker.revokeSession({ sid }, { actor: 'operator:test', reason: 'test' });
  t.is((await userinfo(bed.url, tokens.access_token)).status, 401);
});

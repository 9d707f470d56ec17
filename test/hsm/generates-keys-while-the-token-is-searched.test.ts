/**
 * Key generation while other operations of the same process search the token.
 *
 * SoftHSM 2.6.1's file object store takes `fcntl` locks, which never exclude another thread of the same
 * process: a `C_FindObjectsInit` re-reading the object a `C_GenerateKeyPair` is still writing made the
 * generation fail with CKR_GENERAL_ERROR or CKR_TEMPLATE_INCONSISTENT (SoftHSMv2 #573; the CI flake of
 * `signs-and-verifies-every-algorithm`, where the rows' tests generate and search at once). The token now
 * runs object-creating operations alone; this test generates key pairs (and a KEK) while two loops keep
 * searching, and asserts that every generation succeeded and every key is found once.
 */
import test from 'ava';
import { TokenKek } from '../../hsm/hierarchy/kek.ts';
import { listPrivateKeys } from '../../hsm/pkcs11/keys.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token, { poolSize: 8 });
});
test.after.always(async () => {
  await store?.close();
});

const ROUNDS = 15;
const PER_ROUND = 3;

test('key pairs generated while the token is searched all succeed and are each found once', async (t) => {
  const failures: string[] = [];
  const kids: string[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    let generating = true;
    const search = async (): Promise<void> => {
      while (generating) {
        await listPrivateKeys(store.token, 'gw:');
        await new Promise(setImmediate);
      }
    };
    const searches = [search(), search()];
    const generations = Array.from({ length: PER_ROUND }, () =>
      store.generate('client_auth', 'EdDSA').then(
        (signer) => void kids.push(signer.kid),
        (error: { code?: string; detail?: string }) => void failures.push(`${error.code}:${error.detail}`),
      ),
    );
    if (round === 0) generations.push(TokenKek.ensure(store.token).then(() => undefined));
    await Promise.all(generations);
    generating = false;
    await Promise.all(searches);
  }
  t.deepEqual(failures, []);
  t.is(kids.length, ROUNDS * PER_ROUND);
  const labels = (await listPrivateKeys(store.token, 'gw:client_auth:EdDSA:')).map((key) => key.label);
  t.is(labels.length, ROUNDS * PER_ROUND);
  t.is(new Set(labels).size, labels.length);
});

/**
 * A token is found by its label while another process creates tokens in the same token directory (as the
 * test suite's files do, and as an operator's `softhsm2-util --init-token` may): SoftHSM re-reads every
 * token at `C_Initialize`, a token still being written answers `C_GetTokenInfo` with `CKR_GENERAL_ERROR`,
 * and the lookup skips it instead of failing (a loaded run failed at gateway boot on this). The race is rare:
 * this loop did not reproduce it on demand on the code before the fix; it guards the lookup under the load.
 * Real SoftHSM2: a token directory of this test's own, a shell loop creating tokens in it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { acquireModule, releaseModule, slotByTokenLabel } from '../../hsm/pkcs11/module.ts';
import { initToken, prepareSoftHsm } from '../harness/services/softhsm.ts';

test('the lookup of a token survives tokens being created beside it', async (t) => {
  t.timeout(180_000);
  const home = prepareSoftHsm(mkdtempSync(join(tmpdir(), 'gw-hsm-race-')));
  const ours = initToken(home);
  process.env.SOFTHSM2_CONF = home.conf; // read by SoftHSM at C_Initialize (AVA runs files as processes)
  const writer = spawn(
    'bash',
    ['-c', 'for i in $(seq 1 150); do softhsm2-util --init-token --free --label w$i --pin 1234 --so-pin 1234; done'],
    { env: { ...process.env, SOFTHSM2_CONF: home.conf }, stdio: 'ignore' },
  );
  const writing = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
  t.teardown(() => void writer.kill('SIGKILL'));
  const failures: string[] = [];
  let lookups = 0;
  let done = false;
  void writing.then(() => (done = true));
  while (!done && lookups < 600) {
    // each acquire after a release initialises the module again: SoftHSM reads the whole directory anew
    acquireModule(ours.library);
    try {
      slotByTokenLabel(ours.library, ours.label);
    } catch (error) {
      failures.push((error as Error).message);
    } finally {
      releaseModule(ours.library);
    }
    lookups += 1;
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.log(`${lookups} lookups while tokens were created`);
  t.true(lookups >= 50, `only ${lookups} lookups ran`);
  t.deepEqual(failures, []);
});

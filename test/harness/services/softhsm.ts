/**
 * A SoftHSM2 token store in a folder of ours. Each caller gets its own token (a fresh label), so
 * test files never see each other's keys.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from './run-command.ts';

export interface SoftHsmHome {
  /** Path of the softhsm2.conf to export as SOFTHSM2_CONF. */
  conf: string;
  /** The PKCS#11 module. */
  library: string;
}

export interface TokenHandle {
  library: string;
  label: string;
  pin: string;
  soPin: string;
}

export function softHsmLibrary(): string {
  for (const candidate of ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so']) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('libsofthsm2.so not found: install the softhsm2 package (make provision)');
}

export function prepareSoftHsm(dir: string): SoftHsmHome {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  return { conf, library: softHsmLibrary() };
}

/** Initialises a new token with random PINs. `SOFTHSM2_CONF` must point at the home's conf. */
export function initToken(home: SoftHsmHome, label = `gw-${randomBytes(4).toString('hex')}`): TokenHandle {
  const pin = randomBytes(8).toString('hex');
  const soPin = randomBytes(8).toString('hex');
  // Test files initialise tokens in one directory at the same time: softhsm2-util may read a token another
  // process is still writing ("Could not get info about the token in slot N"). That race is retried.
  for (let attempt = 1; ; attempt += 1) {
    try {
      run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
        env: { ...process.env, SOFTHSM2_CONF: home.conf },
      });
      return { library: home.library, label, pin, soPin };
    } catch (error) {
      if (attempt >= 5 || !/Could not get info about the token/.test(String((error as Error).message))) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 * attempt);
    }
  }
}

/**
 * `node test/harness/with-stack.ts -- <command...>`: starts PostgreSQL, Redis and a SoftHSM2 token store
 * in a temporary folder on free loopback ports, runs the command with their addresses in the environment,
 * and tears everything down, also when the command fails or the run is interrupted.
 *
 * Environment given to the command: GW_TEST_PG_URL (admin URL), GW_TEST_PG_TEMPLATE (a database with every
 * migration applied, copied by `freshDatabase()`), GW_TEST_REDIS_URL, SOFTHSM2_CONF, GW_TEST_PKCS11_LIBRARY,
 * GW_TEST_DIR; and the same servers' Unix sockets: GW_TEST_PG_SOCKETS (the folder: `?host=` it to a database URL),
 * GW_TEST_REDIS_SOCKET_URL (`unix:///…/redis.sock`).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from './stack.ts';
import { migratedTemplate } from './services/template-database.ts';

const separator = process.argv.indexOf('--');
const command = separator === -1 ? [] : process.argv.slice(separator + 1);
if (command.length === 0) {
  console.error('usage: node test/harness/with-stack.ts -- <command> [args...]');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'gw-test-'));
// PostgreSQL runs as its own system user when we are root: it must be able to traverse this folder.
chmodSync(dir, 0o711);
// the stack's own ports are claimed where the tests' are (free-port.ts): no test is handed one of them
process.env.GW_TEST_DIR = dir;
const log = (line: string) => console.error(line);
const stack = await startStack(dir, {}, log);
const template = await migratedTemplate(stack.postgres.url, log);
let finished = false;
const teardown = async (code: number) => {
  if (finished) return;
  finished = true;
  await stack.stop();
  if (!process.env.GW_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  else log(`stack: kept ${dir}`);
  process.exit(code);
};

const child = spawn(command[0]!, command.slice(1), {
  stdio: 'inherit',
  env: {
    ...process.env,
    GW_TEST_PG_URL: stack.postgres.url,
    GW_TEST_PG_TEMPLATE: template,
    GW_TEST_REDIS_URL: stack.redis.url,
    // the same servers over their Unix sockets (a deployment with its stores on the gateway's host)
    GW_TEST_PG_SOCKETS: stack.postgres.sockets,
    ...(stack.redis.socketUrl === undefined ? {} : { GW_TEST_REDIS_SOCKET_URL: stack.redis.socketUrl }),
    SOFTHSM2_CONF: stack.softhsm.conf,
    GW_TEST_PKCS11_LIBRARY: stack.softhsm.library,
    GW_TEST_DIR: dir,
  },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    child.kill(signal);
  });
}
child.on('exit', (code, signal) => {
  void teardown(code ?? (signal ? 1 : 0));
});
child.on('error', (error) => {
  log(`stack: could not start ${command[0]}: ${error.message}`);
  void teardown(1);
});

/**
 * A gateway told to stop (SIGTERM: a rolling restart; SIGHUP: a closed terminal, a reload — Node's default exited at
 * once, no drain) while a client holds a request half sent: its connection is cut
 * after the 5 s grace, and the gateway's parts close in order (deliveries drained, audit spool, HSM, pools): the
 * process exits 0. Before, `server.close()` stopped the timeouts' checks and waited for that connection for ever; the
 * 10 s force exited 1 without closing anything. No credential needed: one TCP connection did it. A real gateway
 * process (`node gateway/main.ts`), PostgreSQL, Redis and SoftHSM2.
 */
import { connect } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { prepareDeployment, startGatewayProcess } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

/** A token each (made before the tests start: a token made after the module opened is not seen). */
const tokens = { SIGTERM: freshToken(), SIGHUP: freshToken() };

for (const signal of ['SIGTERM', 'SIGHUP'] as const)
  test(`${signal}: a request half sent when the gateway stops is cut after the grace, and the gateway closes and exits 0`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-stop-'));
    const deployment = await prepareDeployment({
      dir,
      pgUrl: await freshDatabase(),
      redisUrl: redisUrl(),
      redisKeyPrefix: redisPrefix(),
      token: tokens[signal],
      rpRedirectUri: RP_REDIRECT,
      logLevel: 'info',
    });
    t.teardown(() => deployment.stop());
    const port = await freePort();
    const logFile = join(dir, 'gateway.log');
    const gateway = await startGatewayProcess(deployment, port, logFile);
    t.teardown(() => gateway.stop());
    // half a request: its headers never end
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => gateway.child.once('exit', (code) => resolve(code)));
    gateway.child.kill(signal);
    const code = await exited;
    socket.destroy();
    t.is(code, 0, `the gateway closed its parts and exited 0 (log: ${logFile})`);
    t.true(Date.now() - started < 10_000, 'before the force exit');
    t.regex(readFileSync(logFile, 'utf8'), /connections still open after the grace are closed/);
  });

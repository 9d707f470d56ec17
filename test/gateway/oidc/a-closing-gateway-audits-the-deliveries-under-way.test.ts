/**
 * A gateway closing (a rolling restart's SIGTERM) while a back-channel logout is between two attempts waits for it:
 * the retry is made, and its outcome is audited, before the audit log, the HSM and the database close
 * (oidc/in-flight.ts). Before, `close()` went on at once, and the delivery's outcome could not be written down.
 */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import pg from 'pg';
import { freePort } from '../../harness/services/free-port.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';

let bed: SessionBed | undefined;
let receiver: Server | undefined;
test.after.always(async () => {
  await bed?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('a back-channel logout between its attempts is made and audited before the gateway is closed', async (t) => {
  const port = await freePort();
  let attempts = 0;
  let firstArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      attempts += 1;
      // the first attempt fails: the gateway waits its backoff before the second
      res.writeHead(attempts === 1 ? 503 : 200).end();
      if (attempts === 1) firstArrived();
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(port, '127.0.0.1', resolve));
  bed = await startSessionBed({ rpBackchannelLogoutUri: `http://127.0.0.1:${port}/backchannel` });
  const session = await logIn(bed);

  const revoked = bed.gateway.services.sessions.revoker
    .revokeSession({ sid: session.sid }, { actor: 'test', reason: 'closing' })
    .catch(() => undefined);
  await arrived;
  const closing = bed;
  bed = undefined;
  await closing.stop(); // the gateway closes while the delivery waits to try again
  await revoked;

  t.is(attempts, 2, 'the retry was made');
  const db = new pg.Client({ connectionString: closing.pgUrl });
  await db.connect();
  t.teardown(() => db.end());
  const audited = await db.query<{ details: { attempts: number } }>(
    "select details from audit_log where to_state = 'BACKCHANNEL_LOGOUT_DELIVERED'",
  );
  t.deepEqual(
    audited.rows.map((r) => r.details.attempts),
    [2],
    'its outcome is in the audit log',
  );
});

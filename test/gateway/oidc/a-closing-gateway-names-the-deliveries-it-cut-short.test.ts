/**
 * A gateway closing while an RP holds a back-channel logout unanswered does not wait for it for ever: the drain of
 * deliveries under way (oidc/in-flight.ts) ends at its deadline, the close goes on (the audit log, the HSM, the
 * database close), and the warning `DELIVERIES_CUT_SHORT` says how many deliveries were left, whose outcome may not
 * be audited. The RP here accepts the connection and never answers (each attempt waits for oidc-provider's 2.5 s
 * timeout, three attempts: longer than the drain's 4 s).
 */
import test from 'ava';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DRAIN_DEADLINE_MS } from '../../../gateway/oidc/in-flight.ts';
import { recentLogLines } from '../../harness/recent-log-lines.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';

let bed: SessionBed | undefined;
let receiver: Server | undefined;
const held: ServerResponse[] = [];
test.after.always(async () => {
  await bed?.stop();
  for (const res of held) res.destroy();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('a close does not wait past its deadline for an RP that never answers, and names what it cut short', async (t) => {
  const port = await freePort();
  let firstArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
  receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    held.push(res); // never answered
    firstArrived();
  });
  await new Promise<void>((resolve) => receiver!.listen(port, '127.0.0.1', resolve));
  bed = await startSessionBed({ rpBackchannelLogoutUri: `http://127.0.0.1:${port}/backchannel` });
  const session = await logIn(bed);

  void bed.gateway.services.sessions.revoker
    .revokeSession({ sid: session.sid }, { actor: 'test', reason: 'closing' })
    .catch(() => undefined);
  await arrived;
  const closing = bed;
  bed = undefined;
  const started = Date.now();
  await closing.stop(); // the delivery is still waiting for the RP's answer

  const lines = recentLogLines()
    .split('\n')
    .filter((line) => line.includes('"code":"DELIVERIES_CUT_SHORT"'));
  t.is(lines.length, 1, recentLogLines());
  t.true((JSON.parse(lines[0]!) as { left: number }).left >= 1, lines[0]);
  t.true(Date.now() - started >= DRAIN_DEADLINE_MS - 50, 'the close waited for the delivery up to its deadline');
});

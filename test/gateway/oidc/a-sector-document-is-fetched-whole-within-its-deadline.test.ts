/**
 * A `sector_identifier_uri` document is fetched whole within its deadline (gateway/oidc/sector-document.ts): a
 * server that sends a byte now and then, never idle long enough for a socket timeout, used to hold the boot (every
 * client's check, one after the other) or a refresh for hours. Now:
 *
 * - such a server is `SECTOR_IDENTIFIER_UNREACHABLE` once the deadline passes;
 * - the refresh checks the clients a few at once, and a refresh asked while one runs is that one, not a second
 *   round stacked beside it (each `refreshSeconds` tick used to add one);
 * - `stop` waits for the refresh under way, which ends by its deadline.
 */
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ClientEntry } from '../../../gateway/config/types.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { checkSectorDocument } from '../../../gateway/oidc/sector-document.ts';
import { SectorIdentifiers } from '../../../gateway/oidc/sector-identifiers.ts';
import { makePki } from '../../helpers/https-document-server.ts';

const REDIRECT = 'https://rp.example/callback';
let server: Server;
let origin: string;
let ca: string;
let caFile: string;
/** Whether `/sector.json` trickles (else it answers at once). */
let trickling = false;
const timers = new Set<NodeJS.Timeout>();

test.before(async () => {
  const pki = makePki(mkdtempSync(join(tmpdir(), 'sector-deadline-')));
  caFile = pki.caFile;
  ca = readFileSync(pki.caFile, 'utf8');
  server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
    const body = JSON.stringify([REDIRECT]);
    if (!(req.url === '/trickle' || (req.url === '/sector.json' && trickling)))
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    // one byte every 300 ms, forever: never idle for a socket timeout
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    const timer = setInterval(() => res.write(' '), 300);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(() => {
  for (const timer of timers) clearInterval(timer);
  server.closeAllConnections();
  server.close();
});

/** Resolves with what `work` settled to, or 'still running' after `ms` (well past the 5 s deadline). */
function within<T>(
  work: Promise<T>,
  ms: number,
): Promise<{ settled: 'resolved' | 'rejected'; value: unknown } | 'still running'> {
  return Promise.race([
    work.then(
      (value) => ({ settled: 'resolved' as const, value }),
      (value: unknown) => ({ settled: 'rejected' as const, value }),
    ),
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms).unref()),
  ]);
}

test('a server that trickles its answer is unreachable once the deadline passes', async (t) => {
  const outcome = await within(
    checkSectorDocument({ clientId: 'rp', uri: `${origin}/trickle`, redirectUris: [REDIRECT], extraCas: [ca] }),
    20_000,
  );
  t.not(outcome, 'still running');
  if (outcome === 'still running') return;
  t.is(outcome.settled, 'rejected');
  t.true(outcome.value instanceof GatewayError);
  t.is((outcome.value as GatewayError).code, 'SECTOR_IDENTIFIER_UNREACHABLE');
});

test('a refresh asked while one runs is that one, and stop waits only until its deadline', async (t) => {
  const client = {
    client_id: 'rp',
    redirect_uris: [REDIRECT],
    sector_identifier_uri: `${origin}/sector.json`,
  } as unknown as ClientEntry;
  trickling = false;
  const sectors = await SectorIdentifiers.start({
    clients: [client],
    caFiles: [caFile],
    refreshSeconds: 3600,
    logger: pino({ level: 'silent' }),
    onChange: async () => undefined,
  });
  trickling = true;
  const first = sectors.refresh();
  const second = sectors.refresh();
  t.is(second, first, 'one refresh at a time');
  const stopped = await within(sectors.stop(), 20_000);
  t.not(stopped, 'still running');
  await first;
  sectors.assertUsable('rp'); // an unreachable document keeps the last verdict
});

/**
 * A small https server on 127.0.0.1 with its own test CA (made with openssl for this run), serving one
 * programmable JSON document: what an RP publishes as its `sector_identifier_uri`. The gateway is told to
 * trust the CA through `sectorIdentifiers.caFiles` — https all the way, as in production.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HttpsDocumentServer {
  /** https://127.0.0.1:<port> */
  origin: string;
  /** PEM file of the CA that issued the server certificate. */
  caFile: string;
  /** What `GET <path>` answers from now on. */
  serve(path: string, body: string, status?: number): void;
  requests: string[];
  stop(): Promise<void>;
}

/**
 * A test CA and a server certificate for 127.0.0.1 it issued, made with openssl in `dir` (files `server.key`,
 * `server.pem`, `ca.pem` there too).
 */
export function makePki(dir: string): { key: string; cert: string; caFile: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=sector test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  run([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  return {
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    caFile: join(dir, 'ca.pem'),
  };
}

/**
 * A client certificate (`client.pem`, `client.key`, clientAuth) issued in `dir` by the CA `makePki` made there: for a
 * server that asks its clients for one (Redis's `tls-auth-clients yes`).
 */
export function makeClientCertificate(dir: string): { certFile: string; keyFile: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
      '-subj',
      '/CN=gateway',
    ]),
  );
  writeFileSync(join(dir, 'client-ext.cnf'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  run(
    ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'client.pem',
      '-days',
      '2',
      '-extfile',
      'client-ext.cnf',
    ]),
  );
  return { certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') };
}

/**
 * A server certificate naming only the DNS name `dnsName` (no address), issued in `dir` by the CA `makePki` made there
 * (`<dnsName>.pem`, `<dnsName>.key`): a server reached at 127.0.0.1 then checks only with `servername` set to it.
 */
export function makeDnsServerCertificate(dir: string, dnsName: string): { certFile: string; keyFile: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      `${dnsName}.key`,
      '-out',
      `${dnsName}.csr`,
      '-subj',
      `/CN=${dnsName}`,
    ]),
  );
  writeFileSync(
    join(dir, `${dnsName}-ext.cnf`),
    `subjectAltName=DNS:${dnsName}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  run(
    ['x509', '-req', '-in', `${dnsName}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      `${dnsName}.pem`,
      '-days',
      '2',
      '-extfile',
      `${dnsName}-ext.cnf`,
    ]),
  );
  return { certFile: join(dir, `${dnsName}.pem`), keyFile: join(dir, `${dnsName}.key`) };
}

/**
 * @example
 * const docs = await startHttpsDocumentServer();
 * docs.serve('/sector.json', JSON.stringify(['https://a.example/cb', 'https://b.example/cb']));
 */
export async function startHttpsDocumentServer(): Promise<HttpsDocumentServer> {
  const pki = makePki(mkdtempSync(join(tmpdir(), 'gw-sector-pki-')));
  const documents = new Map<string, { body: string; status: number }>();
  const requests: string[] = [];
  const server: Server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
    requests.push(req.url ?? '');
    const doc = documents.get(req.url ?? '');
    res.writeHead(doc?.status ?? 404, { 'content-type': 'application/json' });
    res.end(doc?.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `https://127.0.0.1:${port}`,
    caFile: pki.caFile,
    serve: (path, body, status = 200) => void documents.set(path, { body, status }),
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Starts the pysaml2 IdP (`pysaml2_idp.py`, Debian's python3-pysaml2 + xmlsec1) as a child process on
 * 127.0.0.1 with a fresh RSA key, for interoperability tests. `stop()` ends the process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../harness/services/free-port.ts';
import { nodeKey } from './eidas-node.ts';

const SCRIPT = fileURLToPath(new URL('./pysaml2_idp.py', import.meta.url));
export const PYTHON = '/usr/bin/python3';

export interface Pysaml2Idp {
  url: string;
  metadataUrl: string;
  entityId: string;
  stop(): Promise<void>;
}

/** Starts the IdP; it fetches our SP metadata from `spMetadataUrl` when the first request arrives. */
export async function startPysaml2Idp(options: { spMetadataUrl: string; encrypt?: boolean }): Promise<Pysaml2Idp> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pysaml2-'));
  const key = await nodeKey('rsa', 'CN=pysaml2 interop IdP');
  writeFileSync(join(dir, 'key.pem'), key.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'cert.pem'), key.certificatePem);
  const port = await freePort();
  const child: ChildProcess = spawn(
    PYTHON,
    [
      SCRIPT,
      '--port',
      String(port),
      '--key',
      join(dir, 'key.pem'),
      '--cert',
      join(dir, 'cert.pem'),
      '--sp-metadata-url',
      options.spMetadataUrl,
      ...(options.encrypt ? ['--encrypt'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`pysaml2 IdP exited with ${code}: ${stderr}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    metadataUrl: `${url}/metadata`,
    entityId: `${url}/metadata`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

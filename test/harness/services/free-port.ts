/**
 * Asks the kernel for a free TCP port on 127.0.0.1. The port is free when answered, not reserved: a server
 * started on it later may find it taken (`PortInUseError`), and its launcher then chooses another one.
 *
 * Under the harness, a port is handed out once per run (claimed in `$GW_TEST_DIR/ports/`, shared by every
 * test process): two test files that ask at the same moment never get the same port, and a server stopped to
 * be restarted on its port (PostgreSQL or Redis outage tests) never sees it handed to another test meanwhile.
 * The kernel answers listen(0) with odd ports and gives outgoing connections even ones, so a port handed out
 * here is not taken by a connection either.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A server could not bind the port it was given: someone took it between `freePort()` and the bind. */
export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number, what: string, log: string) {
    super(`${what}: port ${port} was taken before it could bind it:\n${log}`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}

export async function freePort(ask: () => Promise<number> = kernelFreePort): Promise<number> {
  for (;;) {
    const port = await ask();
    if (claimed(port)) return port;
  }
}

/** Claims `port` for this run (false when another caller of this run had it already). */
function claimed(port: number): boolean {
  const dir = process.env.GW_TEST_DIR;
  if (!dir) return true;
  const ports = join(dir, 'ports');
  mkdirSync(ports, { recursive: true });
  try {
    closeSync(openSync(join(ports, String(port)), 'wx'));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function kernelFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

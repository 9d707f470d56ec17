/**
 * Asks the kernel for a free TCP port on 127.0.0.1. The port is free when answered, not reserved: a server
 * started on it later may find it taken (`PortInUseError`), and its launcher then chooses another one.
 */
import { createServer } from 'node:net';

/** A server could not bind the port it was given: someone took it between `freePort()` and the bind. */
export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number, what: string, log: string) {
    super(`${what}: port ${port} was taken before it could bind it:\n${log}`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}

export function freePort(): Promise<number> {
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

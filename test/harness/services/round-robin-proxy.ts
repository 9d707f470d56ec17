/**
 * A minimal HTTP load balancer on loopback, as in front of any multi-instance deployment: each request
 * goes to the next backend in turn (no connection reuse toward the backends), with its Host header
 * unchanged (or set to `publicHost`, as a balancer reached by another name does), so the gateways
 * behind it see the public host they are configured for.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** How many requests each backend (by its URL) answered. */
  served: Map<string, number>;
  stop(): Promise<void>;
}

export async function startRoundRobinProxy(
  port: number,
  backends: () => string[],
  options: { publicHost?: string } = {},
): Promise<RoundRobinProxy> {
  const served = new Map<string, number>();
  let next = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const list = backends();
    const backend = new URL(list[next++ % list.length]!);
    served.set(backend.origin, (served.get(backend.origin) ?? 0) + 1);
    const forward = request(
      {
        host: backend.hostname,
        port: backend.port,
        method: incoming.method,
        path: incoming.url,
        headers: options.publicHost ? { ...incoming.headers, host: options.publicHost } : incoming.headers,
        agent: false,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => {
      outgoing.writeHead(502).end();
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * GET /interaction/:uid/signals/ws (Upgrade: websocket) — the behavioural side channel over a WebSocket,
 * on the gateway's own node:http server (`attachUpgrade`). Same contract as the POST (side-channel.ts):
 *
 * - the handshake is refused (plain HTTP answer, then the socket is closed) when the path is not this
 *   one (404 `NOT_FOUND`), the handshake is malformed (400 `WEBSOCKET_INVALID`), the `Origin` is not the
 *   issuer's (403 `ORIGIN_REFUSED`), or the interaction is unknown, another browser's, or no longer
 *   taking signals (403 `INTERACTION_INVALID`);
 * - the client sends one masked text frame holding the JSON vector (≤ 8 KiB); it is validated like the
 *   POST body, stored with channel `websocket`, acknowledged (`{"stored":true}`) and the socket closed
 *   (1000); an invalid vector closes with 1007 `SIGNALS_INVALID`, an oversize one with 1009;
 * - raw trajectories never arrive: only the aggregates of features.ts;
 * - bounded (signals-socket-caps.ts): sockets per client address (429 `RATE_LIMITED`) and per process (429 `LOAD_SHEDDING`),
 *   one open socket per login, and a life of at most five minutes from the 101, pings or not.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { GatewayError, type ErrorCode } from '../errors.ts';
import type { Services } from '../services.ts';
import { parseVector } from '../behaviour/features.ts';
import { acceptKey, closeFrame, FrameReader, serverFrame, validKey } from '../behaviour/websocket-frames.ts';
import { clientAddress, trustedProxies, type TrustedProxies } from '../http/client-address.ts';
import { SocketCaps } from './signals-socket-caps.ts';

/** Largest message accepted (bytes). */
export const WS_PAYLOAD_CAP = 8192;
const PATH = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/signals\/ws$/;
const IDLE_MS = 30_000;

/** How long a refused socket's answer may take to leave before the socket is destroyed. */
const LINGER_MS = 1_000;
/** Longest wait between the upgrade and its answer (the interaction's reads): then the socket is destroyed. */
const HANDSHAKE_MS = 10_000;

function refuse(socket: Duplex, status: number, reason: string, code: ErrorCode): void {
  const body = JSON.stringify({ error: code });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
  // the server keeps upgraded sockets half open: one whose peer never closes its side would hold its place and
  // its descriptor for ever; it is destroyed once the answer had time to leave
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

async function interactionAccepts(services: Services, req: IncomingMessage, uid: string): Promise<boolean> {
  const details = await services.holder.provider.interactionDetails(req, new ServerResponse(req)).catch(() => null);
  if (!details || details.uid !== uid) return false;
  const record = await services.flow.get(uid);
  return !!record && (record.state === 'INITIATED' || record.state === 'AUTHENTICATING');
}

function serve(socket: Duplex, head: Buffer, services: Services, uid: string, caps: SocketCaps): void {
  const reader = new FrameReader(WS_PAYLOAD_CAP);
  let done = false;
  const close = (code: number, reason = '') => {
    if (done) return;
    done = true;
    socket.end(closeFrame(code, reason));
  };
  (socket as Socket).setTimeout(IDLE_MS, () => socket.destroy());
  // a life from the 101, whatever pings keep it busy; and one socket per login (the page loaded again replaces it)
  const life = setTimeout(() => socket.destroy(), caps.lifeMs).unref();
  // once our side is closed, the peer's is not waited for long (the server keeps upgraded sockets half open)
  socket.once('finish', () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
  const forget = caps.open(uid, () => socket.destroy());
  socket.once('close', () => {
    clearTimeout(life);
    forget();
  });
  const onChunk = (chunk: Buffer) => {
    if (done) return;
    for (const event of reader.push(chunk)) {
      if (event.kind === 'error') return close(event.code);
      if (event.kind === 'close') return close(1000);
      if (event.kind === 'ping') {
        socket.write(serverFrame(0xa, event.payload));
        continue;
      }
      done = true; // one vector per connection
      void store(event.text).then(
        () => socket.end(Buffer.concat([serverFrame(0x1, Buffer.from('{"stored":true}')), closeFrame(1000)])),
        (error: unknown) => {
          const code = error instanceof GatewayError ? error.code : 'INTERNAL_ERROR';
          if (!(error instanceof GatewayError))
            services.logger.warn({ err: error, loginId: uid }, 'websocket signals not stored');
          socket.end(closeFrame(error instanceof GatewayError && code === 'SIGNALS_INVALID' ? 1007 : 1011, code));
        },
      );
      return;
    }
  };
  const store = async (text: string) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new GatewayError('SIGNALS_INVALID', 400, 'invalid behavioural signals', { detail: 'not JSON' });
    }
    const vector = parseVector(raw);
    const record = await services.flow.get(uid);
    if (!record || (record.state !== 'INITIATED' && record.state !== 'AUTHENTICATING'))
      throw new GatewayError('INTERACTION_INVALID', 400, 'this sign-in does not take signals now');
    await services.fraud.behaviour.save(uid, vector, 'websocket');
  };
  socket.on('data', onChunk);
  socket.on('error', () => socket.destroy());
  if (head.length > 0) onChunk(head);
}

async function handleUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  services: Services,
  caps: SocketCaps,
  answered: () => void,
): Promise<void> {
  const match = PATH.exec(new URL(req.url ?? '/', 'http://gateway.invalid').pathname);
  if (!match) return refuse(socket, 404, 'Not Found', 'NOT_FOUND');
  const uid = match[1]!;
  const key = req.headers['sec-websocket-key'];
  if (
    req.method !== 'GET' ||
    req.headers.upgrade?.toLowerCase() !== 'websocket' ||
    req.headers['sec-websocket-version'] !== '13' ||
    !validKey(key)
  ) {
    return refuse(socket, 400, 'Bad Request', 'WEBSOCKET_INVALID');
  }
  if (req.headers.origin !== new URL(services.config.issuer).origin)
    return refuse(socket, 403, 'Forbidden', 'ORIGIN_REFUSED');
  const accepted = await interactionAccepts(services, req, uid);
  // destroyed meanwhile (its handshake's time ran out while the interaction was read): nothing to answer or serve
  if (socket.destroyed) return;
  if (!accepted) return refuse(socket, 403, 'Forbidden', 'INTERACTION_INVALID');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\n\r\n`,
  );
  answered();
  serve(socket, head, services, uid, caps);
}

/** What the per-address cap counts: an IPv4 address, or an IPv6 address's /64 (what one subscriber is given). */
function capKey(address: string): string {
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const groups = head === '' ? [] : head.split(':');
  const right = tail === undefined ? [] : tail === '' ? [] : tail.split(':');
  const all =
    tail === undefined ? groups : [...groups, ...Array<string>(8 - groups.length - right.length).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Serves the WebSocket side channel on `server` (the only upgrade this gateway accepts). Returns its caps, whose
 * `closeAll()` a graceful stop calls before `server.close()`.
 *
 * @example
 * const server = createServer(gateway.app.callback());
 * attachUpgrade(server, gateway.services);
 */
export function attachUpgrade(server: Server, services: Services, caps = new SocketCaps()): SocketCaps {
  const proxies: TrustedProxies = trustedProxies(services.config.trustedProxies);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const address = clientAddress(req.socket.remoteAddress ?? '', headerOf(req, 'x-forwarded-for'), proxies);
    const place = caps.admit(capKey(address));
    if (place === 'address') return refuse(socket, 429, 'Too Many Requests', 'RATE_LIMITED');
    if (place === 'process') return refuse(socket, 429, 'Too Many Requests', 'LOAD_SHEDDING');
    socket.once('close', place.release);
    const handshake = setTimeout(() => socket.destroy(), HANDSHAKE_MS).unref();
    socket.once('close', () => clearTimeout(handshake));
    handleUpgrade(req, socket, head, services, caps, () => clearTimeout(handshake)).catch((err: unknown) => {
      services.logger.warn({ err }, 'websocket upgrade failed');
      if (!socket.destroyed) refuse(socket, 500, 'Internal Server Error', 'INTERNAL_ERROR');
    });
  });
  return caps;
}

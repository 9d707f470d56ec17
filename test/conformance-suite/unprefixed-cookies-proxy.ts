/**
 * A deliberately broken target for OIDC-SSO-03: a reverse proxy in front of an honest gateway that renames the
 * gateway's `__Host-` cookies, as a deployment that relies on names a sibling site can plant would. The gateway
 * itself is not weakened: it is the proxy that renames. Two ways:
 *
 * - `takes-prefix-off`: the prefix is taken off every cookie the gateway sets and put back on what the browser
 *   sends, so the browser holds `_session`, `gw_bb`, … (a sibling site can then plant them);
 * - `reads-fallback-names`: the browser holds the `__Host-` cookies, but a request without one of them that
 *   carries `X` or `__Secure-X` instead is given that value as `__Host-X` (a server that falls back to a name a
 *   sibling can set).
 */
import { createServer, request as httpRequest, type Server } from 'node:http';

const PREFIX = '__Host-';

/** `Cookie` as the gateway expects it: each name it sets with the prefix given it back. */
function prefixed(cookie: string, names: ReadonlySet<string>): string {
  return cookie
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
    .map((pair) => {
      const name = pair.slice(0, Math.max(0, pair.indexOf('=')));
      return names.has(name) ? `${PREFIX}${pair}` : pair;
    })
    .join('; ');
}

/** `Cookie` with the value of `X` or `__Secure-X` given as `__Host-X` for each of `names` it lacks prefixed. */
function fallenBack(cookie: string, names: ReadonlySet<string>): string {
  const pairs = cookie
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '');
  const nameOf = (pair: string) => pair.slice(0, Math.max(0, pair.indexOf('=')));
  const held = new Set(pairs.map(nameOf));
  return pairs
    .flatMap((pair) => {
      const name = nameOf(pair);
      const base = name.startsWith('__Secure-') ? name.slice('__Secure-'.length) : name;
      if (!names.has(base) || held.has(`${PREFIX}${base}`)) return [pair];
      held.add(`${PREFIX}${base}`);
      return [`${PREFIX}${base}${pair.slice(name.length)}`];
    })
    .join('; ');
}

/** How the proxy renames (see the file comment). */
export type Renaming = 'takes-prefix-off' | 'reads-fallback-names';

/**
 * @example const proxy = await startUnprefixedCookiesProxy({ port, upstream: gatewayUrl }); await proxy.stop();
 */
export async function startUnprefixedCookiesProxy(options: {
  port: number;
  upstream: string;
  renaming?: Renaming;
}): Promise<{ stop(): Promise<void> }> {
  const upstream = new URL(options.upstream);
  const renaming = options.renaming ?? 'takes-prefix-off';
  const names = new Set<string>(); // the names the gateway set with the prefix, without it
  const server: Server = createServer((req, res) => {
    const headers = { ...req.headers };
    if (typeof headers.cookie === 'string')
      headers.cookie =
        renaming === 'takes-prefix-off' ? prefixed(headers.cookie, names) : fallenBack(headers.cookie, names);
    const upstreamReq = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        const setCookies = (upstreamRes.headers['set-cookie'] ?? []).map((line) => {
          if (!line.startsWith(PREFIX)) return line;
          const unprefixed = line.slice(PREFIX.length);
          names.add(unprefixed.slice(0, unprefixed.indexOf('=')));
          return renaming === 'takes-prefix-off' ? unprefixed : line;
        });
        const { 'set-cookie': _dropped, ...rest } = upstreamRes.headers;
        res.writeHead(
          upstreamRes.statusCode ?? 502,
          setCookies.length > 0 ? { ...rest, 'set-cookie': setCookies } : rest,
        );
        upstreamRes.on('error', () => res.destroy());
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.on('error', () => upstreamReq.destroy());
    res.on('error', () => upstreamReq.destroy());
    req.pipe(upstreamReq);
  });
  // a port taken meanwhile (freePort() hands out one that was free a moment ago) rejects, never leaves a listen
  // that does not answer (an unhandled 'error' event and a test that never ends)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A deliberately broken target for OIDC-SSO-03: a reverse proxy in front of an honest gateway that takes the
 * `__Host-` prefix off every cookie the gateway sets, and puts it back on what the browser sends, so the
 * browser holds `_session`, `gw_bb`, … as a deployment without the prefix would have it give them (a sibling
 * site can then plant them). The gateway itself is not weakened: it is the proxy that renames.
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

/**
 * @example const proxy = await startUnprefixedCookiesProxy({ port, upstream: gatewayUrl }); await proxy.stop();
 */
export async function startUnprefixedCookiesProxy(options: {
  port: number;
  upstream: string;
}): Promise<{ stop(): Promise<void> }> {
  const upstream = new URL(options.upstream);
  const names = new Set<string>(); // the names the gateway set with the prefix, without it
  const server: Server = createServer((req, res) => {
    const headers = { ...req.headers };
    if (typeof headers.cookie === 'string') headers.cookie = prefixed(headers.cookie, names);
    const upstreamReq = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        const setCookies = (upstreamRes.headers['set-cookie'] ?? []).map((line) => {
          if (!line.startsWith(PREFIX)) return line;
          const unprefixed = line.slice(PREFIX.length);
          names.add(unprefixed.slice(0, unprefixed.indexOf('=')));
          return unprefixed;
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
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

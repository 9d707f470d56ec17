/**
 * A POST to a URL an RP gave (its Shared Signals receiver), held to what oidc-provider's own outward requests are
 * held to, and bounded in what it reads back:
 *
 * - no connection to a special-use address (special-use-address.ts): checked on the address the host name resolved
 *   to, the one connected to (a name that resolves elsewhere the second time changes nothing), and on an address
 *   written in the URL. A loopback URL the operator registered (`127.0.0.1`, `[::1]`, `localhost`: a development or
 *   test receiver; the configuration allows http only there) is the exception;
 * - no redirect followed (a 3xx is an answer like any other);
 * - one deadline for the whole exchange, the answer's body included (a receiver that trickles bytes is cut off);
 * - the body is read up to `maxBytes` and no further; no compressed body is asked for, and none is inflated.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { LOOPBACK_HOSTS } from '../config/check.ts';
import { isSpecialUseAddress } from './special-use-address.ts';

export interface GuardedAnswer {
  status: number;
  /** The body, up to `maxBytes` (cut there: `truncated`). */
  body: string;
  truncated: boolean;
}

/** Thrown when the URL's host is, or resolves to, a special-use address. */
export class SpecialUseAddressError extends Error {
  override readonly name = 'SpecialUseAddressError';
}

/** Resolves as `dns.lookup` does, refusing a special-use address among the answers. */
export const refusingSpecialUse: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const refused = addresses.find((a) => isSpecialUseAddress(a.address));
    if (refused !== undefined || addresses.length === 0) {
      callback(new SpecialUseAddressError(`${hostname} resolves to a special-use address`), '', 0);
      return;
    }
    if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/**
 * @example
 * const answer = await guardedPost(endpoint, { 'content-type': 'application/secevent+jwt' }, jwt, { timeoutMs: 2500, maxBytes: 4096 });
 */
export function guardedPost(
  url: string,
  headers: Record<string, string>,
  body: string,
  limits: { timeoutMs: number; maxBytes: number },
): Promise<GuardedAnswer> {
  const target = new URL(url);
  const loopback = LOOPBACK_HOSTS.includes(target.hostname);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // an address in the URL is connected to without a lookup: checked here (the URL parser wrote it canonically)
  if (!loopback && isIP(host) !== 0 && isSpecialUseAddress(host))
    return Promise.reject(new SpecialUseAddressError(`${target.hostname} is a special-use address`));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(limits.timeoutMs);
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'accept-encoding': 'identity', 'content-length': Buffer.byteLength(body) },
        signal,
        // a connection of its own: a pooled socket (the global agent keeps them alive) could have been opened by
        // another request, without this lookup
        agent: false,
        ...(loopback ? {} : { lookup: refusingSpecialUse }),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          const room = limits.maxBytes - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size = limits.maxBytes;
            truncated = true;
            res.destroy();
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), truncated });
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), truncated }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

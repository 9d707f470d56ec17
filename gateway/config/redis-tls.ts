/**
 * `redis.tls`: Redis over TLS with the operator's trust — `caFile` (the CA that signed Redis's certificates, PEM;
 * without it the system's CAs), and, for servers that ask clients for a certificate (`tls-auth-clients yes`),
 * `certFile` + `keyFile` together (read and checked as a pair at boot). Paths are resolved against the config
 * file's folder. It applies to every connection of the topology: with `url` (which must then be `rediss://`), to
 * the server; with `sentinels`, to the sentinels and to the primary they name; with `cluster`, to every node.
 *
 * Each server's certificate is checked against the host connected to: the configured names (a Cluster's seed
 * names are kept, not resolved to addresses), and the addresses Sentinel and `CLUSTER SLOTS` report (IP entries
 * in the certificates, or Redis's `announce-hostnames` / `cluster-preferred-endpoint-type hostname`).
 * `servername` checks every server against one name instead.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../errors.ts';
import { join, object, onlyKeys, optionalString, type Obj } from './check.ts';

/** What a TLS connection to Redis is given (node:tls options). */
export interface RedisTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** The name every server's certificate is checked against, instead of the address connected to. */
  servername?: string;
}

/**
 * @example
 * parseRedisTls({ caFile: 'redis-ca.pem' }, 'redis', '/etc/gateway') // { ca: '-----BEGIN CERTIFICATE-----…' }
 */
export function parseRedisTls(raw: unknown, at: string, baseDir: string): RedisTls {
  const tlsAt = join(at, 'tls');
  const tls: Obj = object(raw, tlsAt);
  onlyKeys(tls, tlsAt, ['caFile', 'certFile', 'keyFile', 'servername']);
  const servername = optionalString(tls, 'servername', tlsAt);
  const read = (field: string): string | undefined => {
    const name = optionalString(tls, field, tlsAt);
    if (name === undefined) return undefined;
    const file = resolve(baseDir, name);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(join(tlsAt, field), `cannot read ${file}`);
    }
  };
  const [ca, cert, key] = [read('caFile'), read('certFile'), read('keyFile')];
  if ((cert === undefined) !== (key === undefined))
    throw new ConfigError(tlsAt, 'certFile and keyFile go together (a client certificate for Redis)');
  try {
    createSecureContext({ ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert, key }) });
  } catch (error) {
    throw new ConfigError(tlsAt, `the files do not make a TLS context: ${(error as Error).message}`);
  }
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert, key: key! }),
    ...(servername === undefined ? {} : { servername }),
  };
}

/**
 * Whether the TLS a PostgreSQL connection string asks for verifies the server. node-postgres reads `sslmode`,
 * `sslrootcert`, `ssl` and `uselibpqcompat` from the URL (the last of a repeated parameter wins) and, when the URL says
 * nothing, `PGSSLMODE` from the environment. The answer is what node-postgres itself resolves, never a second reading of
 * the URL: a check that parsed it its own way could be passed by a form node-postgres reads otherwise.
 */
import pg from 'pg';

/**
 * Why a connection with this URL would take any certificate (a man in the middle then reads every statement): e.g.
 * `sslmode=no-verify`, `ssl=no-verify`, `PGSSLMODE=no-verify`, or with `uselibpqcompat=true` `sslmode=prefer`, or
 * `require` without `sslrootcert`, or any TLS under `NODE_TLS_REJECT_UNAUTHORIZED=0`. Undefined when its TLS verifies the server, or when it asks for no TLS (a Unix socket,
 * a loopback: the operator's choice). Never names the URL (a secret).
 */
export function unverifiedTls(url: string): string | undefined {
  let ssl: unknown;
  try {
    const client = new pg.Client({ connectionString: url }) as unknown as { connectionParameters: { ssl: unknown } };
    ssl = client.connectionParameters.ssl;
  } catch (error) {
    return `node-postgres cannot read it (${error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : 'unknown'})`;
  }
  if (ssl !== null && typeof ssl === 'object' && (ssl as { rejectUnauthorized?: unknown }).rejectUnauthorized === false)
    return 'its TLS takes any certificate';
  // a TLS connection that does not say whether it checks the server takes Node's default, which this variable turns
  // off for the whole process (node:tls `rejectUnauthorized`)
  if (ssl && process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0')
    return 'its TLS takes any certificate (NODE_TLS_REJECT_UNAUTHORIZED=0)';
  return undefined;
}

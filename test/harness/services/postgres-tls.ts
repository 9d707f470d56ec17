/**
 * A real PostgreSQL server that also speaks TLS (`ssl=on`) with the certificate and key given, on a free port. Its
 * plain connections stay open (the harness's readiness probe); a test looks in `pg_stat_ssl` to see which of its
 * clients' connections are encrypted.
 */
import { chownSync, copyFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run-command.ts';
import { startPostgresOnFreePort, type PostgresHandle } from './postgres.ts';

/**
 * @example
 * const pg = await startPostgresWithTls(dir, { certFile, keyFile });
 * // postgres://gateway@127.0.0.1:<port>/postgres?sslmode=verify-full&sslrootcert=<ca.pem>
 */
export async function startPostgresWithTls(
  dir: string,
  files: { certFile: string; keyFile: string },
): Promise<PostgresHandle> {
  // the server reads its key only when it is the server user's own and private (0600): a copy of ours, made so
  const tls = join(dir, 'tls');
  mkdirSync(tls, { recursive: true });
  const certFile = join(tls, 'server.pem');
  const keyFile = join(tls, 'server.key');
  copyFileSync(files.certFile, certFile);
  copyFileSync(files.keyFile, keyFile);
  chmodSync(keyFile, 0o600);
  if (process.getuid?.() === 0) {
    const uid = Number(run('id', ['-u', 'postgres']).trim());
    const gid = Number(run('id', ['-g', 'postgres']).trim());
    for (const path of [tls, certFile, keyFile]) chownSync(path, uid, gid);
  }
  return startPostgresOnFreePort(dir, `-c ssl=on -c ssl_cert_file=${certFile} -c ssl_key_file=${keyFile}`);
}

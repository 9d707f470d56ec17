/**
 * A real Redis server that also speaks TLS: its plain port (the harness's readiness probe, and tests that look in)
 * and a `tls-port` with the certificate given, client certificates asked for or not (`tls-auth-clients`). Both
 * ports are chosen free, and chosen again when one was taken before the server could bind it.
 */
import { freePort, PortInUseError } from './free-port.ts';
import { startRedis, type RedisHandle } from './redis.ts';

export interface TlsRedisHandle extends RedisHandle {
  /** `rediss://127.0.0.1:<tls-port>`: the same server, over TLS only. */
  tlsUrl: string;
}

/**
 * @example
 * const redis = await startRedisWithTls(dir, { certFile, keyFile, caFile }, { clientCertificates: false });
 */
export async function startRedisWithTls(
  dir: string,
  files: { certFile: string; keyFile: string; caFile: string },
  options: { clientCertificates: boolean },
): Promise<TlsRedisHandle> {
  for (let attempt = 1; ; attempt += 1) {
    const tlsPort = await freePort();
    try {
      const handle = await startRedis(dir, await freePort(), [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        files.certFile,
        '--tls-key-file',
        files.keyFile,
        '--tls-ca-cert-file',
        files.caFile,
        '--tls-auth-clients',
        options.clientCertificates ? 'yes' : 'no',
      ]);
      return { ...handle, tlsUrl: `rediss://127.0.0.1:${tlsPort}` };
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
    }
  }
}

/**
 * Fetches and checks one `sector_identifier_uri` document (OIDC Core §8.1, OIDC Registration §5):
 *
 * - https only (the configuration refuses any other scheme, loopback included); the server certificate is
 *   verified against the system roots plus the CAs in `sectorIdentifiers.caFiles`; no redirects followed;
 * - HTTP 200, at most 64 KiB, within 5 s (`SECTOR_IDENTIFIER_UNREACHABLE` otherwise);
 * - a JSON array of strings that contains every redirect URI of the client, exactly
 *   (`SECTOR_IDENTIFIER_INVALID` otherwise, naming what is missing).
 */
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { GatewayError } from '../errors.ts';

const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 5_000;

function unreachable(clientId: string, uri: string, why: string): GatewayError {
  return new GatewayError(
    'SECTOR_IDENTIFIER_UNREACHABLE',
    502,
    `client ${clientId}: sector_identifier_uri ${uri} could not be fetched: ${why}`,
  );
}

/** GET over https with the given extra CAs; resolves the body of a 200 answer, whole within `TIMEOUT_MS`. */
function get(uri: string, extraCas: readonly string[], clientId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      uri,
      {
        method: 'GET',
        headers: { accept: 'application/json', 'accept-encoding': 'identity' },
        ca: [...rootCertificates, ...extraCas],
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(unreachable(clientId, uri, `HTTP ${res.statusCode ?? '?'}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES) {
            req.destroy();
            reject(unreachable(clientId, uri, `larger than ${MAX_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', (error) => reject(unreachable(clientId, uri, error.message)));
      },
    );
    // one deadline for the whole answer: a socket's idle timeout would let a server sending a byte every few
    // seconds hold the boot, or a refresh, for hours
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (error) =>
      reject(error instanceof GatewayError ? error : unreachable(clientId, uri, error.message)),
    );
    req.end();
  });
}

/**
 * Resolves when the document lists every redirect URI; rejects with a `GatewayError` naming the client.
 *
 * @example
 * await checkSectorDocument({ clientId: 'rp', uri: 'https://rp.example/sector.json', redirectUris, extraCas: [] });
 */
export async function checkSectorDocument(input: {
  clientId: string;
  uri: string;
  redirectUris: readonly string[];
  extraCas: readonly string[];
}): Promise<void> {
  const { clientId, uri } = input;
  const body = await get(uri, input.extraCas, clientId);
  let listed: unknown;
  try {
    listed = JSON.parse(body);
  } catch {
    throw new GatewayError(
      'SECTOR_IDENTIFIER_INVALID',
      502,
      `client ${clientId}: sector_identifier_uri ${uri} is not JSON`,
    );
  }
  if (!Array.isArray(listed) || listed.some((value) => typeof value !== 'string')) {
    throw new GatewayError(
      'SECTOR_IDENTIFIER_INVALID',
      502,
      `client ${clientId}: sector_identifier_uri ${uri} must be a JSON array of redirect URIs`,
    );
  }
  const missing = input.redirectUris.filter((redirect) => !listed.includes(redirect));
  if (missing.length > 0) {
    throw new GatewayError(
      'SECTOR_IDENTIFIER_INVALID',
      502,
      `client ${clientId}: sector_identifier_uri ${uri} does not list ${missing.join(', ')}`,
    );
  }
}

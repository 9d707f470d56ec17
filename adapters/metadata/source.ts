/**
 * Where an IdP's metadata comes from: a file, or an http(s) URL fetched with a time limit and a size
 * cap (no redirects to other schemes, no cookies). Failures are `SAML_METADATA_FETCH_FAILED`.
 */
import { readFile } from 'node:fs/promises';
import { samlError } from '../saml/errors.ts';

export type MetadataSource = { file: string } | { url: string };

const MAX_BYTES = 16 * 1024 * 1024;
const TIMEOUT_MS = 10_000;

/** A stable key for a source (documents of one source are fetched once per refresh round). */
export function sourceKey(source: MetadataSource): string {
  return 'file' in source ? `file:${source.file}` : `url:${source.url}`;
}

/**
 * Reads the metadata document of `source`.
 *
 * @example
 * const xml = await fetchMetadata({ url: 'https://idp.example/metadata' });
 */
export async function fetchMetadata(source: MetadataSource): Promise<string> {
  try {
    if ('file' in source) return await readFile(source.file, 'utf8');
    const url = new URL(source.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`scheme ${url.protocol}`);
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/samlmetadata+xml, application/xml' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const length = Number(response.headers.get('content-length') ?? '0');
    if (length > MAX_BYTES) throw new Error(`${length} bytes`);
    const body = await response.text();
    if (Buffer.byteLength(body, 'utf8') > MAX_BYTES) throw new Error('document too large');
    return body;
  } catch (cause) {
    throw samlError('SAML_METADATA_FETCH_FAILED', { detail: `${sourceKey(source)}: ${cause instanceof Error ? cause.message : String(cause)}`, cause });
  }
}

/**
 * Where an IdP's metadata comes from: a file, or an http(s) URL fetched with a time limit and a size
 * cap (no redirects, no cookies). The body is streamed and the download stops at the cap: a hostile or
 * broken server cannot make us buffer more than MAX_BYTES, whatever Content-Length says (or omits).
 * Failures are `SAML_METADATA_FETCH_FAILED`.
 */
import { readFile } from 'node:fs/promises';
import { samlError } from '../saml/errors.ts';

export type MetadataSource = { file: string } | { url: string };

/** The largest metadata document accepted (national aggregates are a few MB). */
export const MAX_BYTES = 16 * 1024 * 1024;
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
export async function fetchMetadata(source: MetadataSource, limitBytes: number = MAX_BYTES): Promise<string> {
  try {
    if ('file' in source) return await readFile(source.file, 'utf8');
    const url = new URL(source.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`scheme ${url.protocol}`);
    const response = await fetch(url, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
      headers: { accept: 'application/samlmetadata+xml, application/xml' },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const length = Number(response.headers.get('content-length') ?? '0');
    if (length > MAX_BYTES) throw new Error(`${length} bytes announced, over ${MAX_BYTES}`);
    return await readCapped(response, limitBytes);
  } catch (cause) {
    throw samlError('SAML_METADATA_FETCH_FAILED', {
      detail: `${sourceKey(source)}: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    });
  }
}

/** Reads a response body as UTF-8, aborting the download as soon as it passes `limit` bytes. */
async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`document larger than ${limit} bytes (download stopped)`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

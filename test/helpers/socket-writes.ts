/** Counts a socket's writes to the kernel: one per `_write` (one chunk) or `_writev` (several chunks at once, e.g. after a cork). */
export function countSocketWrites(socket: unknown): () => number {
  const s = socket as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = s[name].bind(s);
    s[name] = (...a: unknown[]) => {
      writes += 1;
      original(...a);
    };
  }
  return () => writes;
}

/**
 * The test's stand-in for the TLS-terminating proxy in front of an https deployment on loopback: while it is
 * installed, this process's `fetch` sends a request for one of the given `https://127.0.0.1:<port>` origins to
 * `http://` of the same address. Everything else (the suite's scripted browser, its RP, its IdP fetching the SP
 * metadata) runs as against a real https issuer: the URLs, the issuer and the `Secure` cookies are https ones.
 *
 * @example
 * const restore = terminateTlsFor(() => [deployment.target]); … restore();
 */
export function terminateTlsFor(origins: () => readonly string[]): () => void {
  const plain = globalThis.fetch;
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:' || !origins().includes(url.origin)) return plain(input, init);
    url.protocol = 'http:';
    return input instanceof Request ? plain(new Request(url, input), init) : plain(url, init);
  };
  return () => {
    globalThis.fetch = plain;
  };
}

/**
 * An IdP's metadata as a test bed fetches it to register the IdP from a file: refused here, with what came, when it
 * is not a whole metadata document. A bed that wrote a cut or empty answer would only be seen later as the gateway's
 * `SAML_METADATA_INVALID` at boot and an IdP `unavailable` at the first login (a flaky CI failure of round 32).
 */

/**
 * @example
 * writeFileSync(metadataFile, await idpMetadata(idp.metadataUrl));
 */
export async function idpMetadata(url: string): Promise<string> {
  const response = await fetch(url);
  const text = await response.text();
  const whole = /^\s*(<\?xml[^>]*\?>\s*)?<(\w+:)?EntityDescriptor\b[\s\S]*<\/(\w+:)?EntityDescriptor>\s*$/.test(text);
  if (!response.ok || !whole)
    throw new Error(
      `${url} answered ${response.status} with ${Buffer.byteLength(text)} bytes that are not a whole EntityDescriptor: ` +
        `${JSON.stringify(text.slice(0, 120))} … ${JSON.stringify(text.slice(-80))}`,
    );
  return text;
}

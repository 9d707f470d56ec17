/**
 * A form POST an RP's server makes with its client credentials (HTTP Basic, client_secret_basic): at the token,
 * introspection or revocation endpoint.
 *
 * @example
 * const answer = await postAsClient(fixture.url, '/token/introspection', fixture.deployment.client, { token });
 */
export function postAsClient(
  baseUrl: string,
  path: string,
  client: { client_id: string; client_secret: string },
  form: Record<string, string>,
): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams(form),
  });
}

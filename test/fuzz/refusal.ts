/**
 * What a refusal must carry (issue #15): a stable code — the gateway's own (`<code>` on its page, `error` in
 * its JSON), one of the adapters', or, at an oidc-provider door, a standard OAuth `error` — and never a 5xx.
 * `refusalProblem` names what is wrong with one answer, or returns null.
 */
import { ERROR_CODES } from '../../gateway/error-registry.ts';

/** The OAuth / OIDC error codes oidc-provider answers with (RFC 6749, OIDC Core, RFC 9396 ...); not server_error. */
export const OAUTH_ERRORS: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_response_type',
  'unsupported_response_mode',
  'invalid_scope',
  'access_denied',
  'login_required',
  'consent_required',
  'interaction_required',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'invalid_redirect_uri',
  'invalid_token',
  'insufficient_scope',
  'invalid_authorization_details',
  'invalid_target',
  'unmet_authentication_requirements',
]);

/** The code an error answer carries: `error` of a JSON body, else the first `<code>` of a page. */
export function codeOf(contentType: string, body: string): string | undefined {
  if (contentType.includes('json')) {
    try {
      const error = (JSON.parse(body) as { error?: unknown }).error;
      return typeof error === 'string' ? error : undefined;
    } catch {
      return undefined;
    }
  }
  return /<code>([A-Za-z0-9_]+)<\/code>/.exec(body)?.[1];
}

/**
 * Null when `status` is not a refusal, or a refusal with a registered code (`oauth`: an oidc-provider door,
 * whose refusals are OAuth errors); else what is wrong, prefixed with the input's index.
 */
export function refusalProblem(
  index: number,
  response: { status: number; contentType: string; body: string },
  oauth: boolean,
  codes?: Record<string, number>,
): string | null {
  const { status, contentType, body } = response;
  if (status === 0) return `#${index}: no answer (${body})`;
  if (codes && status >= 400) {
    const key = `${status} ${codeOf(contentType, body) ?? '(none)'}`;
    codes[key] = (codes[key] ?? 0) + 1;
  }
  if (status >= 500) return `#${index}: HTTP ${status} (${codeOf(contentType, body) ?? 'no code'})`;
  if (status < 400) return null;
  const code = codeOf(contentType, body);
  if (code === undefined) return `#${index}: HTTP ${status} without a code`;
  if ((ERROR_CODES as readonly string[]).includes(code) || (oauth && OAUTH_ERRORS.has(code))) return null;
  return `#${index}: HTTP ${status} with an unregistered code ${code}`;
}

/** The status, content type, Location and text of a response (its body read once). */
export async function answerOf(
  response: Response,
): Promise<{ status: number; contentType: string; location: string; body: string }> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    location: response.headers.get('location') ?? '',
    body: await response.text(),
  };
}

/**
 * One request and its answer. A connection reset or closed without an answer is tried once more (a keep-alive
 * connection the server closed as the client reused it is the client's race, not a refusal): `reset` then
 * names the first failure. When the second try fails too, status 0 with the network error's code as body (a
 * problem: every input gets an answer).
 */
export async function exchange(
  url: URL | string,
  init: RequestInit,
): Promise<{ status: number; contentType: string; location: string; body: string; reset?: string }> {
  let reset: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(15_000), ...init });
      return { ...(await answerOf(response)), ...(reset === undefined ? {} : { reset }) };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      reset = cause?.code ?? cause?.message ?? String(error);
    }
  }
  return { status: 0, contentType: '', location: '', body: reset ?? 'no answer' };
}

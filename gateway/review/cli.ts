/**
 * The review CLI, a client of the admin API on the operations listener. The operator is the holder of
 * the credential (`ops.operators[]`); there is no name to pass:
 *
 *   GW_OPS_URL=http://127.0.0.1:9464 GW_OPERATOR_TOKEN=... node gateway/review/cli.ts list
 *   ... node gateway/review/cli.ts approve <loginId> [--note "called back"]
 *   ... node gateway/review/cli.ts deny <loginId> [--note "..."]
 *
 * The token goes over https, or over plain http to a loopback address only: an `http://` URL of another host is
 * refused before anything is sent (exit 2). An operations listener with a private CA (`ops.tls`) is trusted with
 * `NODE_EXTRA_CA_CERTS=/path/to/ca.pem`.
 *
 * Exit codes: 0 done, 1 refused by the gateway (code printed), 2 usage.
 */
import { parseCommandLine } from '../cli-arguments.ts';

const base = process.env.GW_OPS_URL;
const token = process.env.GW_OPERATOR_TOKEN;
const USAGE =
  'usage: GW_OPS_URL=... GW_OPERATOR_TOKEN=... node gateway/review/cli.ts list | approve <loginId> [--note TEXT] | deny <loginId> [--note TEXT]';

async function call(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method,
    // the operations listener never redirects: one that does is not the gateway's, and gets nothing more
    redirect: 'error',
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  console.log(text);
  if (!response.ok) process.exitCode = 1;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why `url` may not carry the operator's token, or undefined when it may. */
function unsafeTarget(url: string): string | undefined {
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:'))
    return `GW_OPS_URL is not an http(s) URL: ${url}`;
  if (parsed.protocol === 'http:' && !LOOPBACK.has(parsed.hostname))
    return `refusing to send the operator token in clear to ${parsed.host}: use https (the gateway's ops.tls)`;
  return undefined;
}

let parsed;
try {
  // strict: an unknown option (the former --operator included) is a usage error, never ignored
  // a login id may begin with '-': gateway/cli-arguments.ts
  parsed = parseCommandLine(process.argv.slice(2), { note: { type: 'string' } });
} catch (error) {
  console.error(`review: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const [command, loginId, ...extra] = parsed.positionals;
const note = parsed.values.note;
const unsafe = base === undefined ? undefined : unsafeTarget(base);
if (!base || !token || !command || extra.length > 0) {
  console.error(USAGE);
  process.exit(2);
} else if (unsafe !== undefined) {
  console.error(`review: ${unsafe}`);
  process.exit(2);
} else if (command === 'list' && loginId === undefined && note === undefined) {
  await call('GET', '/admin/reviews');
} else if ((command === 'approve' || command === 'deny') && loginId) {
  await call('POST', `/admin/reviews/${encodeURIComponent(loginId)}/${command}`, note === undefined ? {} : { note });
} else {
  console.error(USAGE);
  process.exit(2);
}

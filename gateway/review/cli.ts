/**
 * The review CLI, a client of the admin API on the operations listener. The operator is the holder of
 * the credential (`ops.operators[]`); there is no name to pass:
 *
 *   GW_OPS_URL=http://127.0.0.1:9464 GW_OPERATOR_TOKEN=... node gateway/review/cli.ts list
 *   ... node gateway/review/cli.ts approve <loginId> [--note "called back"]
 *   ... node gateway/review/cli.ts deny <loginId> [--note "..."]
 *
 * Exit codes: 0 done, 1 refused by the gateway (code printed), 2 usage.
 */
const [command, loginId] = process.argv.slice(2);
const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const base = process.env.GW_OPS_URL;
const token = process.env.GW_OPERATOR_TOKEN;
const USAGE = 'usage: GW_OPS_URL=... GW_OPERATOR_TOKEN=... node gateway/review/cli.ts list | approve <loginId> [--note TEXT] | deny <loginId> [--note TEXT]';

async function call(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  console.log(text);
  if (!response.ok) process.exitCode = 1;
}

if (!base || !token || !command) {
  console.error(USAGE);
  process.exit(2);
} else if (command === 'list') {
  await call('GET', '/admin/reviews');
} else if ((command === 'approve' || command === 'deny') && loginId && !process.argv.includes('--operator')) {
  const note = flag('note');
  await call('POST', `/admin/reviews/${encodeURIComponent(loginId)}/${command}`, note === undefined ? {} : { note });
} else {
  console.error(USAGE);
  process.exit(2);
}

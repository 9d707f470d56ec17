/**
 * The review CLI, a client of the admin API (same token, loopback only):
 *
 *   GW_ADMIN_URL=http://127.0.0.1:3000 GW_ADMIN_TOKEN=... node gateway/review/cli.ts list
 *   ... node gateway/review/cli.ts approve <loginId> --operator alice [--note "called back"]
 *   ... node gateway/review/cli.ts deny <loginId> --operator alice
 *
 * Exit codes: 0 done, 1 refused by the gateway (code printed), 2 usage.
 */
const [command, loginId] = process.argv.slice(2);
const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const base = process.env.GW_ADMIN_URL;
const token = process.env.GW_ADMIN_TOKEN;

async function call(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  console.log(text);
  if (!response.ok) process.exitCode = 1;
}

if (!base || !token || !command) {
  console.error('usage: GW_ADMIN_URL=... GW_ADMIN_TOKEN=... node gateway/review/cli.ts list | approve <loginId> --operator NAME [--note TEXT] | deny <loginId> --operator NAME');
  process.exit(2);
} else if (command === 'list') {
  await call('GET', '/admin/reviews');
} else if ((command === 'approve' || command === 'deny') && loginId && flag('operator')) {
  await call('POST', `/admin/reviews/${encodeURIComponent(loginId)}/${command}`, { operator: flag('operator'), note: flag('note') });
} else {
  console.error('usage: approve|deny <loginId> --operator NAME');
  process.exit(2);
}

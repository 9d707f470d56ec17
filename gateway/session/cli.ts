/**
 * The session CLI (the operator's side of `revocation.ts`; the admin API calls the same functions):
 *
 *   node gateway/session/cli.ts --config gateway.config.json --reason TEXT revoke session <uid>
 *   node gateway/session/cli.ts --config gateway.config.json --reason TEXT revoke sid <sid>
 *   node gateway/session/cli.ts --config gateway.config.json --reason TEXT revoke account <account id>
 *   node gateway/session/cli.ts --config gateway.config.json --reason TEXT revoke idp <idp id>
 *   node gateway/session/cli.ts --config gateway.config.json --reason TEXT revoke issued-before <ISO 8601 instant>
 *   node gateway/session/cli.ts --config gateway.config.json retention
 *
 * `revoke` prints `{"id","sessions","propagated"}` (propagated false: Redis was unreachable; the running
 * gateways apply it from PostgreSQL once it answers) and is audited with actor `cli:<OS user>`; `--actor NAME` adds
 * whom it was done for (`cli:<OS user> for NAME`), never replaces the user who ran it.
 * `retention` makes the day partitions ahead and drops those expired for more than 7 days; prints them.
 * Exit 0 done, 1 could not run, 2 usage.
 */
import { cliUser, parseCommandLine } from '../cli-arguments.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { loadConfigFile } from '../config/load.ts';
import { createLogger } from '../observability/logger.ts';
import { newRegistry } from '../observability/metrics.ts';
import { createPool } from '../store/postgres.ts';
import { createRedis } from '../store/redis.ts';
import { openKeyStore } from '../../hsm/token-keystore.ts';
import { startSessions, type Sessions } from './boot-sessions.ts';
import { revocationInstant, revocationReason } from './revocation-input.ts';
import type { RevocationResult, RevokeOptions } from './revocation.ts';
import { longestRecordSeconds } from './session-life.ts';

const USAGE =
  'usage: node gateway/session/cli.ts --config FILE --reason TEXT [--actor NAME] revoke session|sid|account|idp|issued-before <value>\n       node gateway/session/cli.ts --config FILE retention';
const OPTIONS = { config: { type: 'string' }, reason: { type: 'string' }, actor: { type: 'string' } } as const;

/** The revocation a `revoke <scope> <value>` names, or a usage error. */
function revocation(
  scope: string | undefined,
  value: string | undefined,
): ((sessions: Sessions, options: RevokeOptions) => Promise<RevocationResult>) | string {
  if (!value) return 'a value is required';
  if (scope === 'session') return (s, o) => s.revoker.revokeSession({ uid: value }, o);
  if (scope === 'sid') return (s, o) => s.revoker.revokeSession({ sid: value }, o);
  if (scope === 'account') return (s, o) => s.revoker.revokeAllOfAccount(value, o);
  if (scope === 'idp') return (s, o) => s.revoker.revokeAllOfIdp(value, o);
  if (scope === 'issued-before') {
    // as the admin API takes it: with its zone, not in the future
    const instant = revocationInstant(value, new Date());
    if (typeof instant === 'string') return instant.replace('issued_before', 'issued-before');
    return (s, o) => s.revoker.revokeIssuedBefore(instant, o);
  }
  return `unknown scope ${JSON.stringify(scope)}`;
}

/** Why the command line is refused (exit 2), or undefined. */
function usageProblem(given: {
  file: string | undefined;
  command: string | undefined;
  scope: string | undefined;
  run: ReturnType<typeof revocation> | undefined;
  reason: string | undefined;
  actor: string | undefined;
  extra: string[];
}): string | undefined {
  const { file, command, scope, run, reason, actor, extra } = given;
  if (!file) return '--config is required';
  if (command === 'retention') return scope ? 'retention takes no argument' : undefined;
  if (command !== 'revoke') return `unknown command ${JSON.stringify(command)}`;
  if (typeof run === 'string') return run;
  if (!reason) return '--reason is required';
  const checked = revocationReason(reason);
  if ('problem' in checked) return `--reason: ${checked.problem}`;
  // the actor goes into PostgreSQL and the audit chain as the reason does
  if (actor !== undefined && 'problem' in revocationReason(actor))
    return '--actor must be 1 to 500 characters, none a control or invisible character';
  return extra.length > 0 ? 'too many arguments' : undefined;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), OPTIONS); // a uid or sid may begin with '-'
  } catch (error) {
    console.error(`session: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, scope, value, ...extra] = parsed.positionals;
  const { config: file, reason } = parsed.values;
  const run = command === 'revoke' ? revocation(scope, value) : undefined;
  const problem = usageProblem({ file, command, scope, run, reason, actor: parsed.values.actor, extra });
  if (problem) {
    console.error(`session: ${problem}\n${USAGE}`);
    return 2;
  }
  const config = loadConfigFile(file!);
  const logger = createLogger('warn', 'session-cli');
  const pool = createPool(config.database.url, { max: 2 });
  const redis = createRedis(config.redis);
  const keys = await openKeyStore({
    library: config.hsm.library,
    tokenLabel: config.hsm.tokenLabel,
    pin: config.hsm.pin,
  });
  const audit = new AuditLog(pool);
  // who ran it, always; `--actor` only says for whom (a name typed on a command line attributes nothing alone)
  const actor = `cli:${cliUser()}${parsed.values.actor === undefined ? '' : ` for ${parsed.values.actor}`}`;
  let sessions: Sessions | undefined;
  try {
    sessions = await startSessions({
      token: keys.token,
      pool,
      redis,
      logger,
      audit,
      registry: newRegistry({ processMetrics: false }),
      channel: `${config.redis.keyPrefix}sessions:revoked`,
      maxTtlSeconds: longestRecordSeconds(config.ttl),
      redisCommandTimeoutMs: config.redis.commandTimeoutMs,
      actor,
      timers: false,
    });
    if (command === 'retention') console.log(JSON.stringify({ dropped: await sessions.maintain() }));
    else if (typeof run === 'function')
      console.log(JSON.stringify(await run(sessions, { actor, reason: reason!.trim() })));
    return 0;
  } finally {
    await sessions?.close();
    await audit.close();
    redis.disconnect();
    await pool.end();
    await keys.close();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`session: ${(error as Error).message}`);
  process.exitCode = 1;
}

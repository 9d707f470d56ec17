/**
 * Environment settings that moved into the validated configuration file (issue #13 item 15, issue #10
 * item 13). Each is refused at boot, naming the key that replaces it, so that an upgrade never silently
 * drops a restriction (an admin token, a metrics allow-list) or a risk policy. Secrets stay `{ "env" }` /
 * `{ "file" }` references inside the file.
 */
import { ConfigError } from '../errors.ts';

const RETIRED: Readonly<Record<string, string>> = {
  GW_ADMIN_TOKEN: 'ops.operators (per-operator credentials; the admin API is on the operations listener)',
  GW_METRICS_ALLOW: 'ops.operators with the metrics role (/metrics is on the operations listener)',
  GW_RISK_POLICY_FILE: 'risk.policyFile',
  GW_AUDIT_SPOOL_DIR: 'audit.spoolDir',
};

/**
 * Throws `CONFIG_INVALID` at the first retired variable set in `env`.
 *
 * @example
 * refuseRetiredEnvironment(process.env);
 */
export function refuseRetiredEnvironment(env: NodeJS.ProcessEnv): void {
  for (const [name, instead] of Object.entries(RETIRED)) {
    if (env[name] !== undefined)
      throw new ConfigError(name, `is no longer read: set ${instead} in the configuration file`);
  }
}

/**
 * Throws `CONFIG_INVALID` when the environment turns off a check the gateway relies on: `NODE_TLS_REJECT_UNAUTHORIZED=0`
 * makes every TLS connection of the process take any certificate (PostgreSQL and Redis over TLS, IdP metadata, RP
 * back-channels, the SSF receivers), whatever the configuration asks for.
 *
 * @example
 * refuseInsecureEnvironment(process.env);
 */
export function refuseInsecureEnvironment(env: NodeJS.ProcessEnv): void {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0' || process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0')
    throw new ConfigError(
      'NODE_TLS_REJECT_UNAUTHORIZED',
      'is 0: every TLS connection would take any certificate; unset it (a private CA: NODE_EXTRA_CA_CERTS or the settings named in the README)',
    );
}

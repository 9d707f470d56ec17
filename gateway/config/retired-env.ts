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

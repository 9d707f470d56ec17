/**
 * A risk policy that never steps up, flags or denies: for tests that log one person in from many fresh
 * browsers to check something other than the risk policy (the default policy rightly steps up the fifth
 * new device of a person within 24 h: `correlation:devices_per_identity`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes the policy file and returns its path (for `riskPolicyFile`). */
export function permissivePolicyFile(dir: string = mkdtempSync(join(tmpdir(), 'gw-policy-'))): string {
  const file = join(dir, 'permissive-policy.json');
  writeFileSync(
    file,
    JSON.stringify({
      default: {
        thresholds: { stepUp: 0.99, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 },
        tierLevels: [0, 0, 2, 3, 3],
        degradedLevel: 0, // nor while the pipeline runs rule-only
      },
    }),
  );
  return file;
}

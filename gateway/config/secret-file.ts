/**
 * A secret given as `{ "file": "/path" }` (a cookie key, the pairwise salt, an operator token, a client secret):
 * read once at boot, its one trailing newline dropped. A file every user of the host may read is refused: whoever
 * reads the pairwise salt or a cookie key can link people across RPs or forge their cookies. The gateway's own user
 * and its group may read it (`chmod 600` or `640`).
 */
import { readFileSync, statSync } from 'node:fs';

/**
 * The secret in `file`; throws an `Error` saying why it cannot be used (the caller names the setting).
 *
 * @example
 * const salt = readSecretFile('/run/secrets/pairwise-salt');
 */
export function readSecretFile(file: string): string {
  let mode: number;
  let value: string;
  try {
    mode = statSync(file).mode;
    value = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`cannot read secret file ${file}`);
  }
  if ((mode & 0o007) !== 0)
    throw new Error(
      `secret file ${file} is open to every user of the host (mode ${(mode & 0o777).toString(8)}): chmod o-rwx`,
    );
  return value.replace(/\r?\n$/, '');
}

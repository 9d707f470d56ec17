/**
 * The command line of the operator CLIs, read so that a value beginning with '-' is a value.
 *
 * Login ids, session uids and sids are base64url: one in 64 begins with '-', one in 4,096 with '--'. An
 * operator pastes them as they are (`review deny -nQLa…`), and `node:util`'s strict `parseArgs` would refuse
 * them as unknown options. Here only the CLI's own long options (`--name VALUE`, `--name=VALUE`, `--flag`) are
 * options; every other word, dashes or not, is a positional, in its order. `--` ends the options as usual.
 *
 * Nothing is loosened: each CLI still checks the number and place of its positionals, so a mistyped option
 * (`--reasn`) lands in a positional slot and is refused there as a usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `argv` rewritten as `[...options, '--', ...positionals]`, every option value in `--name=VALUE` form. */
export function valuesMayBeginWithDash(argv: readonly string[], options: Options): string[] {
  const named: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const name = word.startsWith('--') ? word.slice(2).split('=')[0]! : undefined;
    const option = name === undefined ? undefined : options[name];
    if (!option) {
      positionals.push(word);
    } else if (option.type === 'boolean' || word.includes('=')) {
      named.push(word);
    } else if (i + 1 < argv.length) {
      named.push(`--${name}=${argv[++i]}`);
    } else {
      named.push(word); // `--note` with nothing after it: parseArgs says so
    }
  }
  return [...named, '--', ...positionals];
}

/** `parseArgs` (strict, positionals allowed) over `argv` read by {@link valuesMayBeginWithDash}. */
export function parseCommandLine<O extends Options>(argv: readonly string[], options: O) {
  return parseArgs({ args: valuesMayBeginWithDash(argv, options), options, allowPositionals: true, strict: true });
}

/** Who runs an operator CLI (the OS user, or `uid:<n>`): one definition with the HSM's ceremonies. */
export { cliUser } from '../hsm/cli-user.ts';

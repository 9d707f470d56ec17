/**
 * What an adapter's configuration section is checked with: a zod schema built for the deployment
 * (`SectionContext`: the folder relative paths resolve against, the gateway's issuer), strict objects only (an
 * unknown key is an error), and the few value types every section shares (https URLs, files that exist). The
 * gateway turns the first issue into its boot error, naming the path (`saml.idps[0].maxLoa: must be one of …`).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

export interface SectionContext {
  /** Relative paths in the section resolve against this folder (the config file's). */
  baseDir: string;
  /** The gateway's public base URL, without a trailing slash. */
  issuer: string;
}

/**
 * An absolute URL: https, or http for a loopback development host; no fragment.
 *
 * @example httpsUrl().parse('https://idp.example/metadata');
 */
export function httpsUrl(options: { allowHttpLoopback: boolean } = { allowHttpLoopback: true }) {
  return z.string({ error: 'must be an absolute URL' }).superRefine((value, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return;
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback && options.allowHttpLoopback))
      ctx.addIssue({
        code: 'custom',
        message: 'must use https (http is accepted only for loopback development hosts)',
      });
    else if (parsed.hash) ctx.addIssue({ code: 'custom', message: 'must not contain a fragment' });
  });
}

/** A file path, resolved against the config file's folder, that exists now (a boot error, not a first-request one). */
export function existingFile(context: SectionContext, missing = 'file not found') {
  return z
    .string({ error: 'must be a file path' })
    .min(1, 'must be a file path')
    .transform((value, ctx) => {
      const path = resolve(context.baseDir, value);
      if (!existsSync(path)) {
        ctx.addIssue({ code: 'custom', message: `${missing}: ${path}` });
        return z.NEVER;
      }
      return path;
    });
}

/** A non-empty string (the empty string is as wrong as a missing value). */
export function text(pattern?: RegExp) {
  const base = z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string');
  return pattern ? base.regex(pattern, `must match ${String(pattern)}`) : base;
}

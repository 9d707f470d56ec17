/**
 * A real headless Chromium (Debian's package) driven by playwright-core, started the way this machine
 * needs it: no sandbox as root, no background networking (the network is closed), a fresh profile
 * (playwright makes a temporary one per launch).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ARTIFACTS = resolve(import.meta.dirname, '..', 'artifacts');

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

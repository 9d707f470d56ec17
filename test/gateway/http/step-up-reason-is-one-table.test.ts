/**
 * Why a step-up is asked is said in one place (http/step-up-reason.ts): the page before a step-up at the IdP
 * and the WebAuthn step-up show the same words (the WebAuthn page is checked in a browser by
 * test/webauthn/person-enrols-a-key-and-steps-up-with-it.test.ts), and no other source file of gateway/
 * holds a copy of them.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeHtml } from '../../../gateway/http/html.ts';
import { LANGUAGES } from '../../../gateway/http/language.ts';
import { STEP_UP_REASON, stepUpReason } from '../../../gateway/http/step-up-reason.ts';
import { stepUpPage } from '../../../gateway/interaction/step-up-page.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

for (const lang of LANGUAGES) {
  test(`the page before a step-up at the IdP says why with the shared words (${lang})`, (t) => {
    const html = stepUpPage(lang, 'Demo IdP', true, {
      correlation: 'c',
      request: 'r',
      binding: 'redirect',
      url: 'https://idp.example/sso',
    });
    t.true(html.includes(`<p id="step-up-why">${escapeHtml(stepUpReason(lang))}</p>`));
  });
}

test('no other source file of gateway/ holds a copy of the words', (t) => {
  const sentences = LANGUAGES.flatMap((lang) => Object.values(STEP_UP_REASON[lang]));
  const holders = readdirSync(join(ROOT, 'gateway'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => {
      const text = readFileSync(file, 'utf8');
      // the long sentences; and the old copies' tell-tale clause
      return (
        sentences.some((s) => s.length > 40 && text.includes(s)) ||
        /opération importante|important operation/.test(text)
      );
    })
    .map((file) => relative(ROOT, file));
  t.deepEqual(holders, ['gateway/http/step-up-reason.ts']);
});

/**
 * The scripted browser of end-to-end tests is the conformance suite's own (a cookie jar, manual
 * redirects, form reading and submission): one implementation, used black-box by the suite and by tests.
 */
export { Browser, type Landing, type RequestInit2 } from '../../conformance/suite/browser/browser.ts';
export { formsIn, type Form } from '../../conformance/suite/browser/forms.ts';

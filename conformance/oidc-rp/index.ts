/**
 * The demo OIDC relying party of `conformance/`: public entry point.
 */
export { startDemoRp, type DemoRp, type DemoRpOptions } from './server.ts';

/**
 * The demo / programmable SAML IdP of `conformance/`: public entry point.
 */
export { startDemoIdp, type DemoIdp, type DemoIdpOptions } from './server.ts';
export {
  buildLoginResponse,
  userAttributes,
  type BuiltResponse,
  type IdpSigningIdentity,
  type LoginResponseInput,
  type ResponseOverrides,
  type SpAddress,
} from './build-response.ts';
export { demoUsers, findUser, loaUri, loaUris, type DemoUser, type Loa } from './demo-users.ts';
export { assertWellFormedXml, installSamlifyXmlGuard } from './xml-guard.ts';

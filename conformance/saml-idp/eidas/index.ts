/**
 * The suite's programmable eIDAS node (Proxy-Service): keys, signatures (RSA-PSS, ECDSA), XML
 * Encryption (AES-GCM + RSA-OAEP), eIDAS messages and the HTTP server. See server.ts for the routes.
 */
export { startEidasNode, type EidasNode, type EidasNodeOptions, type EidasOverrides } from './server.ts';
export { ensureNodeKeys, type NodeKeys } from './node-keys.ts';
export { ENC, type EncryptionOptions } from './encrypt-assertion.ts';
export { SIG } from './node-signature.ts';
export { EIDAS_LOA, ERIKA, NATURAL_PERSON, URI_FORMAT, type EidasPerson } from './messages.ts';

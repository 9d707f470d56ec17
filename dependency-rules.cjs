/**
 * The architecture as import rules (dependency-cruiser; `make lint` runs it, so `make test` does too).
 * Read it as the picture in ../shared/ARCHITECTURE.md:
 *
 *   hsm  ←  adapters  ←  gateway          conformance and certs import none of them
 *
 * and, inside each of adapters/ and gateway/, its parts stacked from the bottom up: a part may import
 * only parts listed BELOW it (or itself). A backward import fails with the rule's name, e.g.
 * `gateway/audit-imports-only-below-it`, and the two files. Type-only imports count: they tie parts
 * together for a reader as much as runtime ones. With one order for all parts, no loop between parts
 * can exist; `no-file-cycles` also forbids loops between the files of one part.
 */

/** adapters/, bottom first. */
const ADAPTERS = [
  'errors', // the closed registry of adapter error codes (kind + FR/EN message per code)
  'contract', // the seam: UpstreamIdentity, Adapter, AdapterError — what the gateway sees
  'attributes', // the attribute map (eIDAS and legacy names → pivot claims)
  'saml', // the SAML 2.0 SP: AuthnRequest, the verification pipeline, XML and XMLDSig/XMLEnc
  'metadata', // fetch, verify and monitor an IdP's SAML metadata document (builds on saml/)
  'eidas', // the eIDAS profile on top of SAML
  'kinds', // the closed table of adapter kinds and what each needs (key rule, metadata extensions)
  'reference', // the minimal adapter written only for the contract (the template for a new kind)
  'registry', // the adapters configured in this deployment
  'protocols', // the upstream protocol modules (config section schema, start, routes) and their closed table
];

/** gateway/, bottom first. */
const GATEWAY = [
  'error-registry', // the closed registry of codes: status, OAuth error, audit outcome, FR/EN message
  'audit-codes', // the closed table of audit-only codes (never raised, only recorded); AuditErrorCode
  'errors', // GatewayError and ConfigError, typed by the registry
  'cli-arguments', // the operator CLIs' command line: a value that begins with '-' is a value
  'translate', // UpstreamIdentity → PivotIdentity, acr ↔ LoA, scopes → claims, amr
  'config', // the validated configuration file
  'store', // PostgreSQL and Redis clients, migrations
  'observability', // logger, metrics, request ids, /health and /ready
  'audit', // the hash-chained audit log: a sink, written to, imports nothing of the flow
  'flow', // the login state machine; every transition audited
  'keys', // signing-key lifecycle over the HSM
  'http', // HTTP plumbing shared by every surface: error page, forms, headers, origin pinning
  'ratelimit', // token buckets in Redis (one Lua script per decision) and the local second line; the middleware
  'behaviour', // behavioural signals: features and their store
  'risk', // the four risk stages and their pipeline
  'policy', // the policy: assessment + RP/IdP rules → decision
  'session', // what the gateway keeps of one login between its steps, its browser binding, the session store
  'review', // the manual-review queue
  'translation', // the fraud service: risk pipeline + policy + review queue + reprocessing, and its wiring
  'idps', // the upstream IdPs of this deployment, built into adapters
  'oidc', // the OpenID Provider (oidc-provider) and its stores
  'services', // the wiring record handlers receive (shrinking)
  'completion', // the last step of every successful login (grant, result, COMPLETED), below every surface
  'webauthn', // the gateway's own step-up with WebAuthn
  'interaction', // the pages between the RP and the IdP: chooser, ACS, completion, review page, signals
  'api', // RP-facing APIs beside OIDC: the signed risk assessment; the fraud routes
  'admin', // the operations listener: admin API, metrics, readiness
  'app', // the Koa app: routes mounted in order
  'boot', // builds everything from the configuration
  'cluster', // the primary of N worker processes on one port: forks, restarts, drains, aggregates metrics
  'main', // the process
];

function layered(root, parts) {
  return parts.map((part, i) => {
    const above = parts.slice(i + 1);
    return {
      name: `${root}/${part}-imports-only-below-it`,
      comment: `${root}/${part} may import only ${parts.slice(0, i).join(', ') || 'nothing'} of ${root}/`,
      severity: 'error',
      from: { path: `^${root}/${part}(/|\\.ts$)` },
      to: { path: `^${root}/(${above.join('|')})(/|\\.ts$)` },
    };
  });
}

module.exports = {
  forbidden: [
    {
      name: 'hsm-is-a-leaf',
      comment: 'hsm/ imports nothing of the product',
      severity: 'error',
      from: { path: '^hsm/' },
      to: { path: '^(adapters|gateway|conformance|test)/' },
    },
    {
      name: 'adapters-import-only-hsm',
      comment: 'adapters/ may import hsm/ and nothing else of the product',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^(gateway|conformance|test)/' },
    },
    {
      name: 'gateway-imports-no-tools',
      comment: 'gateway/ may import adapters/ and hsm/, never the conformance tools or tests',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^(conformance|test)/' },
    },
    {
      name: 'conformance-is-independent',
      comment: 'conformance/ talks to a deployment over HTTP only: it imports nothing of the product',
      severity: 'error',
      from: { path: '^conformance/' },
      to: { path: '^(hsm|adapters|gateway|test)/' },
    },
    {
      name: 'no-file-cycles',
      comment: 'no loop between files (type-only imports included)',
      severity: 'error',
      from: { path: '^(hsm|adapters|gateway|conformance)/' },
      to: { circular: true },
    },
    {
      name: 'gateway/handlers-take-small-records',
      comment:
        'the WebAuthn pages, the RP-facing APIs and the operations listener get the few collaborators they use (records built in boot.ts), not the services hub',
      severity: 'error',
      from: { path: '^gateway/(webauthn|api|admin)/' },
      to: { path: '^gateway/services\\.ts$' },
    },
    ...layered('adapters', ADAPTERS),
    ...layered('gateway', GATEWAY),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.tools|var|test/artifacts)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

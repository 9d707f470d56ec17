/** Placeholder: the algorithm registry (being written). */
export type AlgorithmName = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

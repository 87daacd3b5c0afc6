/** Source of cryptographically secure random bytes; adapters pass `crypto.randomBytes` or the pooled source in `handlers/pooled-random-source.ts`. */
export type RandomSource = (size: number) => Uint8Array;

/** Source of cryptographically secure random bytes; adapters pass `crypto.randomBytes`. */
export type RandomSource = (size: number) => Uint8Array;

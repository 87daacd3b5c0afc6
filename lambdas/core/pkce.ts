import { createHash } from 'node:crypto';

/** RFC 7636 §4.1 / §4.2: 43 to 128 characters of [A-Za-z0-9-._~], for the verifier and the S256 challenge alike. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export const isPkceValue = (value: string): boolean => PKCE_VALUE.test(value);

/** RFC 7636 §4.2 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export const s256 = (verifier: string): string =>
  createHash('sha256').update(verifier, 'ascii').digest('base64url');

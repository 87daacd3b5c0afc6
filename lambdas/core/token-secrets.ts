import { createHash, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from './random-source';

/** 256 bits: the floor for tokens and client secrets. */
const SECRET_BYTES = 32;
/** 128 bits: ids are not secret, only unguessable enough never to collide. */
const ID_BYTES = 16;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const toBase64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** A fresh URL-safe secret with 256 bits from the CSPRNG. */
export const generateSecret = (random: RandomSource): string => toBase64Url(random(SECRET_BYTES));

/** A fresh URL-safe identifier (grant ids, client ids). */
export const generateId = (random: RandomSource): string => toBase64Url(random(ID_BYTES));

/**
 * SHA-256 of a secret, base64url. A fast hash is enough here: every secret we hash carries
 * 256 random bits, so there is nothing to brute-force; a dump of hashes yields no usable secret.
 */
export const hashSecret = (secret: string): string =>
  createHash('sha256').update(secret, 'utf8').digest('base64url');

/** Constant-time comparison of two hashes produced by `hashSecret`. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'base64url');
  const right = Buffer.from(b, 'base64url');
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface ParsedToken {
  readonly grantId: string;
  readonly secret: string;
}

/** Tokens are `<grant id>.<secret>`: the id locates the grant in one read, the secret proves possession. */
export const formatToken = (grantId: string, secret: string): string => `${grantId}.${secret}`;

/** Returns undefined for anything that is not a well-formed token (never throws). */
export function parseToken(token: string): ParsedToken | undefined {
  if (token.length > 256) return undefined;
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const grantId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!BASE64URL.test(grantId) || !BASE64URL.test(secret)) return undefined;
  return { grantId, secret };
}

import type { PublishedKeySet, SigningKeySet } from '../core/signing-keys';

/**
 * Parses stored key sets strictly: a value that is not what we wrote is a broken store, never an
 * empty one (an empty set would make the rotation mint a new first key and orphan every token).
 */
export function parseSigningKeySet(text: string): SigningKeySet {
  const value: unknown = JSON.parse(text);
  if (!isObject(value) || !Array.isArray(value.keys)) throw new TypeError('not a signing key set');
  for (const key of value.keys) {
    if (
      !isObject(key) ||
      typeof key.kid !== 'string' ||
      typeof key.privateKeyPem !== 'string' ||
      typeof key.createdAt !== 'number' ||
      typeof key.activatesAt !== 'number' ||
      !optionalNumber(key.retiresAt) ||
      !optionalNumber(key.removeAt)
    ) {
      throw new TypeError('malformed signing key entry');
    }
  }
  return value as unknown as SigningKeySet;
}

export function parsePublishedKeySet(text: string): PublishedKeySet {
  const value: unknown = JSON.parse(text);
  if (!isObject(value) || !Array.isArray(value.keys) || typeof value.updatedAt !== 'number') {
    throw new TypeError('not a published key set');
  }
  for (const key of value.keys) {
    if (
      !isObject(key) ||
      !isObject(key.jwk) ||
      typeof key.jwk.kid !== 'string' ||
      key.jwk.kty !== 'RSA' ||
      typeof key.activatesAt !== 'number' ||
      !optionalNumber(key.removeAt)
    ) {
      throw new TypeError('malformed published key');
    }
  }
  return value as unknown as PublishedKeySet;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const optionalNumber = (value: unknown): boolean => value === undefined || typeof value === 'number';

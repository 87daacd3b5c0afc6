import { randomBytes } from 'node:crypto';
import type { Clock } from '../../lambdas/core/clock';
import { toEpochSeconds } from '../../lambdas/core/clock';
import { DEFAULT_ROTATION_POLICY, jwksDocument, rotateSigningKeys } from '../../lambdas/core/signing-keys';
import { cachedSigningKey } from '../../lambdas/store/cached-signing-key';
import { InMemoryPublicKeyStore, InMemorySigningKeyStore } from '../../lambdas/store/in-memory-key-stores';
import { PublicKeyCache } from '../../lambdas/store/public-key-cache';

/** In-memory signing keys with a first key made at the clock's time, as a new stack's deploy does. */
export async function jwtKeys(clock: Clock) {
  const privateKeys = new InMemorySigningKeyStore();
  const publicKeys = new InMemoryPublicKeyStore();
  const rotate = (force: boolean) =>
    rotateSigningKeys(
      { signingKeys: privateKeys, publicKeys, random: randomBytes },
      DEFAULT_ROTATION_POLICY,
      toEpochSeconds(clock()),
      { force },
    );
  const first = await rotate(false);
  return {
    privateKeys,
    publicKeys,
    firstKid: first.kid as string,
    rotate,
    /** The token function's cache (re-read every 5 minutes). */
    signingKey: cachedSigningKey(privateKeys, 5 * 60_000, clock),
    /** A verifier's cache, as the authorizer builds it. */
    verifierCache: () => new PublicKeyCache(publicKeys, clock),
    jwks: async () => jwksDocument(await publicKeys.loadPublicKeys(), toEpochSeconds(clock())),
  };
}

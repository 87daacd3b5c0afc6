import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { RandomSource } from './random-source';
import { generateId } from './token-secrets';

/** The one signing algorithm (RFC 9068, API Gateway's HTTP API JWT authorizer, aws-jwt-verify, jose). */
export const JWT_ALG = 'RS256';
/** RFC 9068 §2.1. */
export const JWT_TYP = 'at+jwt';

const DAY = 24 * 3600;

/**
 * One key of the private key set (kept encrypted: Secrets Manager in AWS, a 0600 file locally).
 * Times are epoch seconds.
 */
export interface SigningKeyEntry {
  readonly kid: string;
  /** PKCS#8 PEM. Never logged, never in an environment variable, template or output. */
  readonly privateKeyPem: string;
  readonly createdAt: number;
  /** Signs from this time on: published in the JWKS `publishAheadSeconds` before. */
  readonly activatesAt: number;
  /** Stops signing then (when its successor activates); absent while it is the newest key. */
  readonly retiresAt?: number;
  /** Leaves the JWKS then: its last token has expired and verifiers had time to notice. */
  readonly removeAt?: number;
}

export interface SigningKeySet {
  readonly keys: readonly SigningKeyEntry[];
}

/** RSA public JWK as published (`kid`, `use: sig`, `alg: RS256`). */
export interface PublicJwk {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
  readonly kid: string;
  readonly use: 'sig';
  readonly alg: typeof JWT_ALG;
}

/** A public key with its schedule, as verifiers read it (no private material). */
export interface PublishedKey {
  readonly jwk: PublicJwk;
  readonly activatesAt: number;
  readonly removeAt?: number;
}

export interface PublishedKeySet {
  readonly keys: readonly PublishedKey[];
  readonly updatedAt: number;
}

/** Private key set storage: readable only by the signing (token) function and the rotation. */
export interface SigningKeyStore {
  loadSigningKeys(): Promise<SigningKeySet | undefined>;
  saveSigningKeys(keys: SigningKeySet): Promise<void>;
}

/** Public key storage: what verifiers (authorizer, JWKS route, introspection) may read. */
export interface PublicKeyStore {
  loadPublicKeys(): Promise<PublishedKeySet | undefined>;
  publishPublicKeys(keys: PublishedKeySet): Promise<void>;
}

/** The key that signs now. */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** Answers the key that signs at `now` (epoch seconds); throws `DependencyUnavailable` when it cannot. */
export type CurrentSigningKey = (now: number) => Promise<ActiveSigningKey>;

export interface RotationPolicy {
  /** A new key is made once the newest is this old (scheduled rotation). */
  readonly rotationDays: number;
  /** A new key is published this long before it signs (longer than API Gateway's 2 h JWKS cache). */
  readonly publishAheadSeconds: number;
  /** The longest access-token lifetime any client can have: a retired key stays this long plus the delay. */
  readonly maxAccessTokenTtlSeconds: number;
}

export const DEFAULT_ROTATION_POLICY: RotationPolicy = Object.freeze({
  rotationDays: 90,
  publishAheadSeconds: 7200,
  maxAccessTokenTtlSeconds: DAY,
});

/**
 * THE function that picks the signing key (and so the `kid`): among the keys active at `now` and not
 * retired, the one that activated last. Undefined when there is none.
 */
export function selectSigningKey(keys: readonly SigningKeyEntry[], now: number): SigningKeyEntry | undefined {
  let chosen: SigningKeyEntry | undefined;
  for (const key of keys) {
    if (key.activatesAt > now) continue;
    if (key.retiresAt !== undefined && key.retiresAt <= now) continue;
    if (key.removeAt !== undefined && key.removeAt <= now) continue;
    if (chosen === undefined || key.activatesAt > chosen.activatesAt) chosen = key;
  }
  return chosen;
}

/** A fresh RSA-2048 key pair with a random `kid`. */
export function generateSigningKey(random: RandomSource, now: number, activatesAt: number): SigningKeyEntry {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid: generateId(random),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    createdAt: now,
    activatesAt,
  };
}

export type RotationOutcome = 'rotated' | 'created-first-key' | 'not-due';

/**
 * Plans a rotation. Keys past `removeAt` are dropped. With no usable key (a new stack), the first key
 * signs at once: no verifier can have cached anything yet. Otherwise a new key is added that signs
 * `publishAheadSeconds` from now; the current key retires then and stays published for
 * `maxAccessTokenTtlSeconds + publishAheadSeconds` more. A forced rotation replaces a pending key that
 * has not signed anything. Without `force`, it rotates only when the newest key is `rotationDays` old.
 */
export function planRotation(
  current: SigningKeySet | undefined,
  policy: RotationPolicy,
  now: number,
  newKey: (activatesAt: number) => SigningKeyEntry,
  options: { force: boolean },
): { keys: SigningKeySet; outcome: RotationOutcome; kid?: string } {
  const kept = (current?.keys ?? []).filter((key) => key.removeAt === undefined || key.removeAt > now);
  const signing = selectSigningKey(kept, now);
  if (signing === undefined) {
    const first = newKey(now);
    return { keys: { keys: [first] }, outcome: 'created-first-key', kid: first.kid };
  }
  const pending = kept.filter((key) => key.activatesAt > now);
  const newest = [...kept].sort((a, b) => b.createdAt - a.createdAt)[0] ?? signing;
  const due = options.force || (pending.length === 0 && newest.createdAt + policy.rotationDays * DAY <= now);
  if (!due) return { keys: { keys: kept }, outcome: 'not-due' };
  const activatesAt = now + policy.publishAheadSeconds;
  const next = newKey(activatesAt);
  const removeAt = activatesAt + policy.maxAccessTokenTtlSeconds + policy.publishAheadSeconds;
  const keys = kept
    // A pending key has signed nothing: the new one replaces it.
    .filter((key) => key.activatesAt <= now)
    .map((key) => (key === signing ? { ...key, retiresAt: activatesAt, removeAt } : key));
  return { keys: { keys: [...keys, next] }, outcome: 'rotated', kid: next.kid };
}

/** The public half of a PEM private key as a JWK (Node's own JWK export, not hand-rolled). */
export function publicJwkOf(kid: string, privateKeyPem: string): PublicJwk {
  const jwk = createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') {
    throw new Error('signing key is not an RSA key');
  }
  return { kty: 'RSA', n: jwk.n, e: jwk.e, kid, use: 'sig', alg: JWT_ALG };
}

/** What verifiers may see of a key set: public keys and their schedule, removed keys left out. */
export function publishedKeysOf(keys: SigningKeySet, now: number): PublishedKeySet {
  return {
    keys: keys.keys
      .filter((key) => key.removeAt === undefined || key.removeAt > now)
      .map((key) => ({
        jwk: publicJwkOf(key.kid, key.privateKeyPem),
        activatesAt: key.activatesAt,
        ...(key.removeAt === undefined ? {} : { removeAt: key.removeAt }),
      })),
    updatedAt: now,
  };
}

/** The `/.well-known/jwks.json` body (RFC 7517): every published key that is not yet removed. */
export function jwksDocument(published: PublishedKeySet | undefined, now: number): { keys: PublicJwk[] } {
  return {
    keys: (published?.keys ?? [])
      .filter((key) => key.removeAt === undefined || key.removeAt > now)
      .map((key) => key.jwk),
  };
}

/** The private key of an entry as a `KeyObject` (parsed once per load by the caller's cache). */
export const privateKeyOf = (entry: SigningKeyEntry): KeyObject => createPrivateKey(entry.privateKeyPem);

/** Rotation run by the admin action and by the schedule: plans, publishes the public half, then stores. */
export async function rotateSigningKeys(
  deps: {
    readonly signingKeys: SigningKeyStore;
    readonly publicKeys: PublicKeyStore;
    readonly random: RandomSource;
  },
  policy: RotationPolicy,
  now: number,
  options: { force: boolean },
): Promise<{ outcome: RotationOutcome; kid?: string; signingKid?: string; publishedKids: string[] }> {
  const current = await deps.signingKeys.loadSigningKeys();
  const plan = planRotation(
    current,
    policy,
    now,
    (activatesAt) => generateSigningKey(deps.random, now, activatesAt),
    options,
  );
  const published = publishedKeysOf(plan.keys, now);
  // Public first: a key is never in the private set (where signers find it) before verifiers can see it.
  await deps.publicKeys.publishPublicKeys(published);
  if (plan.outcome !== 'not-due' || (current?.keys.length ?? 0) !== plan.keys.keys.length) {
    await deps.signingKeys.saveSigningKeys(plan.keys);
  }
  const signing = selectSigningKey(plan.keys.keys, now);
  return {
    outcome: plan.outcome,
    ...(plan.kid === undefined ? {} : { kid: plan.kid }),
    ...(signing === undefined ? {} : { signingKid: signing.kid }),
    publishedKids: published.keys.map((key) => key.jwk.kid),
  };
}

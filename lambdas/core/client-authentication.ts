import { type ClientRecord, type ClientStore, isPublicClient } from './client-store';
import { decodeFormComponent, type FormParams } from './form-params';
import { InvalidClient, InvalidRequest } from './oauth-errors';
import { hashesEqual, hashSecret } from './token-secrets';

export type ClientCredentials =
  | {
      readonly clientId: string;
      readonly clientSecret: string;
      readonly method: 'client_secret_basic' | 'client_secret_post';
    }
  /** A public client (RFC 6749 §2.3, §3.2.1): `client_id` in the body and no secret at all. */
  | { readonly clientId: string; readonly method: 'none' };

const MAX_CLIENT_ID_LENGTH = 128;
const MAX_CLIENT_SECRET_LENGTH = 256;
// Applied to the trimmed header; no two quantifiers can match the same characters (linear time).
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2})$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Compared against when the client is unknown, so an unknown id costs the same as a wrong secret. */
const DUMMY_HASH = hashSecret('no-such-client');

/**
 * Decodes `Authorization: Basic` per RFC 6749 §2.3.1: base64 of `urlencode(id):urlencode(secret)`.
 * Every malformation (bad base64, non-UTF-8, no colon, bad %-escape) is `invalid_client`, never a throw of our own.
 */
export function parseBasicCredentials(header: string, realm: string): ClientCredentials {
  const match = BASIC.exec(header.trim());
  const encoded = match?.[1];
  if (encoded === undefined || encoded.length % 4 === 1) {
    throw new InvalidClient({ realm, cause: 'malformed Basic header' });
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch (cause) {
    throw new InvalidClient({ realm, cause: `Basic credentials are not UTF-8: ${String(cause)}` });
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new InvalidClient({ realm, cause: 'Basic credentials without a colon' });
  try {
    return {
      clientId: decodeFormComponent(decoded.slice(0, colon)),
      clientSecret: decodeFormComponent(decoded.slice(colon + 1)),
      method: 'client_secret_basic',
    };
  } catch {
    throw new InvalidClient({ realm, cause: 'Basic credentials have a malformed %-escape' });
  }
}

/**
 * Finds the client's credentials in the Authorization header or the body (never both:
 * RFC 6749 §2.3 allows one method per request).
 */
export function extractClientCredentials(
  authorization: string | undefined,
  params: FormParams,
  realm: string,
): ClientCredentials {
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (authorization !== undefined && authorization.trim() !== '') {
    if (bodyId !== undefined || bodySecret !== undefined) {
      throw new InvalidRequest(
        'Client credentials must be sent in the Authorization header or the body, not both',
      );
    }
    return parseBasicCredentials(authorization, realm);
  }
  if (bodyId !== undefined && bodySecret === undefined) return { clientId: bodyId, method: 'none' };
  if (bodyId === undefined || bodySecret === undefined) {
    throw new InvalidClient({ realm, cause: 'no client credentials' });
  }
  return { clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
}

/**
 * Authenticates a client. Unknown client, wrong secret and disabled client all give the same
 * `invalid_client`; which check failed is only in the error's private cause. A public client
 * (`token_endpoint_auth_method` `none`) is identified by its `client_id` alone; credentials sent for
 * it, or no secret sent for a confidential client, are `invalid_client` too.
 */
export async function authenticateClient(
  credentials: ClientCredentials,
  clients: ClientStore,
  realm: string,
  /** Epoch seconds; a rotated-away secret still in its overlap authenticates only when given. */
  now?: number,
): Promise<ClientRecord> {
  const { clientId } = credentials;
  const clientSecret = credentials.method === 'none' ? '' : credentials.clientSecret;
  if (
    clientId === '' ||
    clientId.length > MAX_CLIENT_ID_LENGTH ||
    clientSecret.length > MAX_CLIENT_SECRET_LENGTH
  ) {
    throw new InvalidClient({ realm, cause: 'client id or secret out of bounds' });
  }
  const client = await clients.getClient(clientId);
  if (credentials.method === 'none') {
    if (client === undefined) throw new InvalidClient({ realm, cause: 'unknown client' });
    if (!isPublicClient(client))
      throw new InvalidClient({ realm, cause: 'no secret for a confidential client' });
  } else {
    const presented = hashSecret(clientSecret);
    // Both comparisons always run, so timing tells nothing about which secret (if any) matched.
    const currentMatches = hashesEqual(presented, client?.secretHash ?? DUMMY_HASH);
    const previousMatches = hashesEqual(presented, client?.previousSecretHash ?? DUMMY_HASH);
    if (client === undefined) throw new InvalidClient({ realm, cause: 'unknown client' });
    if (isPublicClient(client))
      throw new InvalidClient({ realm, cause: 'credentials sent for a public client' });
    if (!currentMatches) {
      if (!previousMatches || client.previousSecretHash === undefined) {
        throw new InvalidClient({ realm, cause: 'secret mismatch' });
      }
      const until = client.previousSecretExpiresAt;
      if (now === undefined || until === undefined || now >= until) {
        throw new InvalidClient({ realm, cause: 'previous secret expired' });
      }
    }
  }
  if (client.disabled) throw new InvalidClient({ realm, cause: 'client disabled' });
  return client;
}

export const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials', 'authorization_code'] as const;

/** Grant types the token endpoint implements; a client's allow-list is a subset of these. */
export type GrantType = (typeof GRANT_TYPES)[number];

export const isGrantType = (value: unknown): value is GrantType =>
  typeof value === 'string' && (GRANT_TYPES as readonly string[]).includes(value);

/** RFC 7591 names. `none` is a public client (RFC 6749 §2.1): no secret is issued or accepted. */
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'none'] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** A public client cannot keep a secret, so it may only use the grants that need none (RFC 9700 §2.1). */
export const PUBLIC_CLIENT_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];

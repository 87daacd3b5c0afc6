export const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials'] as const;

/** Grant types the token endpoint implements; a client's allow-list is a subset of these. */
export type GrantType = (typeof GRANT_TYPES)[number];

export const isGrantType = (value: unknown): value is GrantType =>
  typeof value === 'string' && (GRANT_TYPES as readonly string[]).includes(value);

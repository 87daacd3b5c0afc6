import { isValidUserId, type UserId } from './auth-check';
import {
  GRANT_TYPES,
  type GrantType,
  isGrantType,
  PUBLIC_CLIENT_GRANT_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type TokenEndpointAuthMethod,
} from './grant-type';
import { InvalidRequest } from './oauth-errors';
import { redirectUriProblem } from './redirect-uri';
import { parseScopeList } from './scope';
import {
  ACCESS_TOKEN_FORMATS,
  type AccessTokenFormat,
  isAccessTokenFormat,
  TOKEN_LIFETIME_BOUNDS,
} from './token-endpoint-config';

/** The admin function's actions (the original's create_client_credentials, and what it lacked). */
export type AdminCommand =
  | {
      action: 'create-client';
      name: string;
      grantTypes: GrantType[];
      scope: string[];
      /** Issued when a token request names no scope; absent: all of `scope`. */
      defaultScope?: string[];
      accessTokenTtlSeconds?: number;
      refreshTokenTtlSeconds?: number;
      /** May introspect other clients' tokens (RFC 7662); false when the payload leaves it out. */
      resourceServer: boolean;
      /** Overrides the service's access-token format for this client. */
      accessTokenFormat?: AccessTokenFormat;
      /** RFC 8707 resources the client may ask JWTs for; the first is the default `aud`. */
      audiences?: string[];
      /** Where the authorize endpoint may redirect; required (non-empty) with `authorization_code`. */
      redirectUris: string[];
      /** `client_secret_basic` unless the payload says `none` (a public client, no secret). */
      tokenEndpointAuthMethod: TokenEndpointAuthMethod;
    }
  | { action: 'list-clients' }
  | {
      action: 'rotate-secret';
      clientId: string;
      /** The replaced secret keeps working this long (zero-downtime rotation); absent or 0: it dies at once. */
      keepPreviousSeconds?: number;
    }
  | { action: 'disable-client'; clientId: string }
  | { action: 'revoke-user-tokens'; userId: UserId }
  /** Clears a username's password lockout (a support desk's "let them try again"). */
  | { action: 'unlock-username'; username: string }
  /** Publishes a new JWT signing key now; it signs `publishAheadSeconds` later (README: Rotating signing keys). */
  | { action: 'rotate-signing-key' };

const FIELDS: Readonly<Record<AdminCommand['action'], readonly string[]>> = {
  'create-client': [
    'name',
    'grant_types',
    'scope',
    'default_scope',
    'access_token_ttl_seconds',
    'refresh_token_ttl_seconds',
    'resource_server',
    'access_token_format',
    'audiences',
    'redirect_uris',
    'token_endpoint_auth_method',
  ],
  'list-clients': [],
  'rotate-secret': ['client_id', 'keep_previous_seconds'],
  'disable-client': ['client_id'],
  'revoke-user-tokens': ['user_id'],
  'unlock-username': ['username'],
  'rotate-signing-key': [],
};

/** How long a rotated-away client secret may keep working: up to 30 days (0 = not at all). */
export const KEEP_PREVIOUS_SECRET_BOUNDS = Object.freeze({ min: 0, max: 30 * 24 * 3600 });

const isAction = (value: unknown): value is AdminCommand['action'] =>
  typeof value === 'string' && Object.hasOwn(FIELDS, value);

/**
 * Parses an admin invocation payload. Unknown actions, unknown fields (a typo such as
 * `grant_type` must not silently create a client without grants) and bad values are `InvalidRequest`.
 */
export function parseAdminCommand(payload: unknown): AdminCommand {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new InvalidRequest('The payload must be a JSON object with an action field');
  }
  const fields = payload as Record<string, unknown>;
  const action = fields.action;
  if (!isAction(action)) {
    throw new InvalidRequest(`action must be one of: ${Object.keys(FIELDS).join(', ')}`);
  }
  const unknown = Object.keys(fields).filter((key) => key !== 'action' && !FIELDS[action].includes(key));
  if (unknown.length > 0) {
    throw new InvalidRequest(`Unknown field for ${action}: ${unknown.map(sanitize).join(', ')}`);
  }
  switch (action) {
    case 'create-client': {
      const scope =
        fields.scope === undefined ? [] : parseScopeList(requireString(fields.scope, 'scope', 4096, true));
      const grantTypes = parseGrantTypes(fields.grant_types);
      const redirectUris = parseRedirectUris(fields.redirect_uris);
      const tokenEndpointAuthMethod = parseAuthMethod(fields.token_endpoint_auth_method);
      if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
        throw new InvalidRequest('A client with authorization_code needs at least one redirect_uris entry');
      }
      if (
        tokenEndpointAuthMethod === 'none' &&
        !grantTypes.every((grantType) => PUBLIC_CLIENT_GRANT_TYPES.includes(grantType))
      ) {
        throw new InvalidRequest(
          `A public client (token_endpoint_auth_method none) may only have: ${PUBLIC_CLIENT_GRANT_TYPES.join(', ')}`,
        );
      }
      if (tokenEndpointAuthMethod === 'none' && fields.resource_server === true) {
        throw new InvalidRequest('A public client cannot be a resource server');
      }
      return {
        action,
        name: requireString(fields.name, 'name', 200),
        grantTypes,
        redirectUris,
        tokenEndpointAuthMethod,
        scope,
        ...(fields.default_scope !== undefined && {
          defaultScope: parseDefaultScope(fields.default_scope, scope),
        }),
        ...(fields.access_token_ttl_seconds !== undefined && {
          accessTokenTtlSeconds: requireInteger(
            fields.access_token_ttl_seconds,
            'access_token_ttl_seconds',
            TOKEN_LIFETIME_BOUNDS.access,
          ),
        }),
        ...(fields.refresh_token_ttl_seconds !== undefined && {
          refreshTokenTtlSeconds: requireInteger(
            fields.refresh_token_ttl_seconds,
            'refresh_token_ttl_seconds',
            TOKEN_LIFETIME_BOUNDS.refresh,
          ),
        }),
        resourceServer:
          fields.resource_server === undefined
            ? false
            : requireBoolean(fields.resource_server, 'resource_server'),
        ...(fields.access_token_format !== undefined && {
          accessTokenFormat: parseAccessTokenFormat(fields.access_token_format),
        }),
        ...(fields.audiences !== undefined && { audiences: parseAudiences(fields.audiences) }),
      };
    }
    case 'list-clients':
      return { action };
    case 'rotate-secret': {
      const clientId = requireString(fields.client_id, 'client_id', 128);
      if (fields.keep_previous_seconds === undefined) return { action, clientId };
      const keepPreviousSeconds = requireInteger(
        fields.keep_previous_seconds,
        'keep_previous_seconds',
        KEEP_PREVIOUS_SECRET_BOUNDS,
      );
      return { action, clientId, ...(keepPreviousSeconds > 0 && { keepPreviousSeconds }) };
    }
    case 'disable-client':
      return { action, clientId: requireString(fields.client_id, 'client_id', 128) };
    case 'revoke-user-tokens':
      if (!isValidUserId(fields.user_id)) {
        throw new InvalidRequest('user_id must be a non-empty string or a number');
      }
      return { action, userId: fields.user_id };
    case 'unlock-username':
      return { action, username: requireString(fields.username, 'username', 1024) };
    case 'rotate-signing-key':
      return { action };
  }
}

function parseAccessTokenFormat(value: unknown): AccessTokenFormat {
  if (!isAccessTokenFormat(value)) {
    throw new InvalidRequest(`access_token_format must be one of: ${ACCESS_TOKEN_FORMATS.join(', ')}`);
  }
  return value;
}

/** RFC 8707 §2: each resource is an absolute URI without a fragment; at most 10, no repeats. */
function parseAudiences(value: unknown): string[] {
  const problem = 'audiences must be a non-empty array of up to 10 absolute URIs without fragment';
  if (!Array.isArray(value) || value.length === 0 || value.length > 10) throw new InvalidRequest(problem);
  for (const entry of value) {
    if (typeof entry !== 'string' || entry.length > 512 || !URL.canParse(entry)) {
      throw new InvalidRequest(problem);
    }
    if (entry.includes('#')) throw new InvalidRequest(problem);
  }
  return [...new Set(value as string[])];
}

function requireString(value: unknown, name: string, maxLength: number, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.trim() === '') || value.length > maxLength) {
    throw new InvalidRequest(`${name} must be a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

/** An integer within `bounds` (for lifetimes: `TOKEN_LIFETIME_BOUNDS`, as for the environment). */
function requireInteger(value: unknown, name: string, bounds: { min: number; max: number }): number {
  if (!Number.isSafeInteger(value) || (value as number) < bounds.min || (value as number) > bounds.max) {
    throw new InvalidRequest(`${name} must be an integer from ${bounds.min} to ${bounds.max}`);
  }
  return value as number;
}

/** The default must be grantable: a default outside `scope` would make every scope-less request fail. */
function parseDefaultScope(value: unknown, scope: readonly string[]): string[] {
  const defaultScope = parseScopeList(requireString(value, 'default_scope', 4096, true));
  if (defaultScope.some((token) => !scope.includes(token))) {
    throw new InvalidRequest('default_scope must be a subset of scope');
  }
  return defaultScope;
}

/** A JSON boolean only: `"false"` or `0` must not quietly turn a security flag on or off. */
function requireBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidRequest(`${name} must be true or false`);
  return value;
}

/** RFC 6749 §3.1.2 + RFC 8252 §7.3 (see `redirectUriProblem`); at most 10, no duplicates kept. */
function parseRedirectUris(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 10 || !value.every((uri) => typeof uri === 'string')) {
    throw new InvalidRequest('redirect_uris must be an array of at most 10 URIs');
  }
  for (const uri of value as string[]) {
    const problem = redirectUriProblem(uri);
    if (problem !== undefined) {
      throw new InvalidRequest(`Each of redirect_uris ${problem}: ${sanitize(uri)}`);
    }
  }
  return [...new Set(value as string[])];
}

function parseAuthMethod(value: unknown): TokenEndpointAuthMethod {
  if (value === undefined) return 'client_secret_basic';
  if (typeof value !== 'string' || !(TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(value)) {
    throw new InvalidRequest(
      `token_endpoint_auth_method must be one of: ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`,
    );
  }
  return value as TokenEndpointAuthMethod;
}

function parseGrantTypes(value: unknown): GrantType[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every(isGrantType)) {
    throw new InvalidRequest(`grant_types must be a non-empty array of: ${GRANT_TYPES.join(', ')}`);
  }
  return [...new Set(value)];
}

const sanitize = (key: string): string => key.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?').slice(0, 40);

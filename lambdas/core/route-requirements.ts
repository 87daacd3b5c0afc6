import { createHash } from 'node:crypto';

/**
 * What an API or one of its routes demands of an access token, beyond being valid. Checked by the
 * authorizer, so API Gateway answers 403 without calling the backend.
 */
export interface RouteRequirements {
  /** Every one of these scopes must be granted to the token (RFC 6750 §3.1 `insufficient_scope`). */
  readonly scopes: readonly string[];
  /** Only tokens issued to these clients; absent: any client. */
  readonly clientIds?: readonly string[];
  /**
   * Only tokens for one of these audiences; absent: no audience check. A token without audiences
   * (every opaque token today) is refused when this is set.
   */
  readonly audiences?: readonly string[];
  /** Accept tokens without a user (`client_credentials`). Default false: user tokens only. */
  readonly allowClientTokens: boolean;
}

/** No stage variable: any valid user token, no scope, client or audience restriction. */
export const DEFAULT_ROUTE_REQUIREMENTS: RouteRequirements = Object.freeze({
  scopes: Object.freeze([]),
  allowClientTokens: false,
});

/** What the check needs to know about the caller. */
export interface PresentedToken {
  readonly hasUser: boolean;
  /** Absent for a cookie session. */
  readonly clientId?: string;
  readonly scope: readonly string[];
  /** Absent for opaque tokens (they carry no audience). */
  readonly audiences?: readonly string[];
}

export type RequirementRefusal =
  | 'user_required'
  | 'client_not_accepted'
  | 'audience_not_accepted'
  | 'insufficient_scope';

export type RequirementVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: RequirementRefusal; readonly missingScopes?: string[] };

/**
 * Decides whether `token` meets `requirements`: a user first (unless client tokens are accepted),
 * then the client, then the audience, then every required scope.
 */
export function checkRouteRequirements(
  token: PresentedToken,
  requirements: RouteRequirements,
): RequirementVerdict {
  if (!token.hasUser && !requirements.allowClientTokens) return { allowed: false, reason: 'user_required' };
  if (
    requirements.clientIds !== undefined &&
    (token.clientId === undefined || !requirements.clientIds.includes(token.clientId))
  ) {
    return { allowed: false, reason: 'client_not_accepted' };
  }
  if (
    requirements.audiences !== undefined &&
    !(token.audiences ?? []).some((audience) => requirements.audiences?.includes(audience))
  ) {
    return { allowed: false, reason: 'audience_not_accepted' };
  }
  const missingScopes = requirements.scopes.filter((scope) => !token.scope.includes(scope));
  if (missingScopes.length > 0) return { allowed: false, reason: 'insufficient_scope', missingScopes };
  return { allowed: true };
}

// ---- Transport: API Gateway stage variables -------------------------------------------------------
//
// One authorizer Lambda serves many APIs, so the requirements travel with the request: as stage
// variables, which API Gateway puts in every REQUEST authorizer event (`event.stageVariables`).
// API Gateway's rules: names of letters, digits and `_`, at most 64 characters; values non-empty,
// at most 512 characters of `[A-Za-z0-9-._~:/?#&=,]`; at most 100 variables per stage.

/** The API-wide requirements (every route of the stage without its own). */
export const API_REQUIREMENTS_VARIABLE = 'oauth2_api';
const ROUTE_VARIABLE_PREFIX = 'oauth2_route_';

/** Stage variable values may hold only these characters (and must not be empty). */
const STAGE_VARIABLE_VALUE = /^[A-Za-z0-9\-._~:/?#&=,]{1,512}$/;
/** One list element: a value character that is not one of our separators `&`, `=`, `,`. */
const ELEMENT = /^[A-Za-z0-9\-._~:/?#]+$/;

export class RouteRequirementsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteRequirementsError';
  }
}

/**
 * The stage variable holding one route's requirements: `oauth2_route_` and 32 hex digits of
 * SHA-256 over `METHOD /resource/{path}`. A digest because resource paths hold `/`, `{`, `}` and
 * `-`, which names may not, and a readable encoding could exceed 64 characters or collide.
 */
export function routeRequirementsVariable(httpMethod: string, resourcePath: string): string {
  const route = `${httpMethod.toUpperCase()} ${resourcePath}`;
  let name = variableNames.get(route);
  if (name === undefined) {
    const digest = createHash('sha256').update(route).digest('hex');
    name = `${ROUTE_VARIABLE_PREFIX}${digest.slice(0, 32)}`;
    remember(variableNames, route, name);
  }
  return name;
}

/**
 * The authorizer asks for the same few routes on every request (two digests each time): the names
 * are kept. Bounded, since the method and path come from the request: cleared when full.
 */
const MEMO_LIMIT = 1024;
const variableNames = new Map<string, string>();
const remember = <V>(memo: Map<string, V>, key: string, value: V): void => {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
};

/**
 * The stage variable value for `requirements`, e.g. `tokens=user&scope=orders:read,orders:write`.
 * Throws `RouteRequirementsError` for anything a stage variable cannot carry, so a bad requirement
 * fails at synth.
 */
export function formatRouteRequirements(requirements: RouteRequirements): string {
  const list = (key: string, values: readonly string[]): string => {
    if (values.length === 0) throw new RouteRequirementsError(`${key} must not be an empty list`);
    for (const value of values) {
      if (!ELEMENT.test(value)) {
        throw new RouteRequirementsError(
          `${key} value ${JSON.stringify(value)} cannot travel in a stage variable: use only letters, digits and -._~:/?#`,
        );
      }
    }
    return `${key}=${[...new Set(values)].join(',')}`;
  };
  const parts = [`tokens=${requirements.allowClientTokens ? 'any' : 'user'}`];
  if (requirements.scopes.length > 0) parts.push(list('scope', requirements.scopes));
  if (requirements.clientIds !== undefined) parts.push(list('client_id', requirements.clientIds));
  if (requirements.audiences !== undefined) parts.push(list('aud', requirements.audiences));
  const value = parts.join('&');
  if (!STAGE_VARIABLE_VALUE.test(value)) {
    throw new RouteRequirementsError(
      `the requirements take ${value.length} characters; a stage variable holds at most 512`,
    );
  }
  return value;
}

/** Parses what `formatRouteRequirements` wrote; anything else is a `RouteRequirementsError`. */
export function parseRouteRequirements(value: string): RouteRequirements {
  if (!STAGE_VARIABLE_VALUE.test(value)) throw new RouteRequirementsError('not a requirements value');
  const fields = new Map<string, string>();
  for (const part of value.split('&')) {
    const [key = '', raw, ...rest] = part.split('=');
    if (raw === undefined || rest.length > 0 || fields.has(key)) {
      throw new RouteRequirementsError(`malformed or repeated field ${JSON.stringify(key)}`);
    }
    fields.set(key, raw);
  }
  const list = (key: string): string[] | undefined => {
    const raw = fields.get(key);
    if (raw === undefined) return undefined;
    const values = raw.split(',');
    if (!values.every((item) => ELEMENT.test(item))) throw new RouteRequirementsError(`empty ${key} value`);
    return values;
  };
  const tokens = fields.get('tokens');
  if (tokens !== 'user' && tokens !== 'any') throw new RouteRequirementsError('tokens must be user or any');
  const unknown = [...fields.keys()].filter((key) => !['tokens', 'scope', 'client_id', 'aud'].includes(key));
  if (unknown.length > 0) throw new RouteRequirementsError(`unknown field ${JSON.stringify(unknown[0])}`);
  const clientIds = list('client_id');
  const audiences = list('aud');
  return {
    scopes: list('scope') ?? [],
    ...(clientIds === undefined ? {} : { clientIds }),
    ...(audiences === undefined ? {} : { audiences }),
    allowClientTokens: tokens === 'any',
  };
}

/**
 * The requirements for one request: the route's own variable (its method, else `ANY`), else the
 * API-wide one, else `DEFAULT_ROUTE_REQUIREMENTS`. A route's variable replaces the API's; they are
 * not merged. Throws `RouteRequirementsError` for a malformed value (the caller refuses access).
 */
export function requirementsFor(
  stageVariables: Readonly<Record<string, string | undefined>> | null | undefined,
  httpMethod: string,
  resourcePath: string,
): RouteRequirements {
  const variables = stageVariables ?? {};
  const value =
    variables[routeRequirementsVariable(httpMethod, resourcePath)] ??
    variables[routeRequirementsVariable('ANY', resourcePath)] ??
    variables[API_REQUIREMENTS_VARIABLE];
  return value === undefined ? DEFAULT_ROUTE_REQUIREMENTS : parseRouteRequirements(value);
}

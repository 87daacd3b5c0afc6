import { InvalidRequest, InvalidScope } from './oauth-errors';

/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Parses a space-delimited scope parameter into distinct scope tokens (order kept).
 * Throws `InvalidScope` for a malformed value (RFC 6749 §3.3 grammar).
 */
export function parseScope(raw: string): string[] {
  const tokens = raw.split(' ');
  if (tokens.some((token) => !SCOPE_TOKEN.test(token))) {
    throw new InvalidScope('The scope parameter is malformed');
  }
  return [...new Set(tokens)];
}

/** Same grammar, for configuration input (admin payloads): a malformed scope is a bad request there. */
export function parseScopeList(raw: string): string[] {
  if (raw === '') return [];
  try {
    return parseScope(raw);
  } catch {
    throw new InvalidRequest('scope must be space-delimited scope tokens (RFC 6749 section 3.3)');
  }
}

export const formatScope = (scope: readonly string[]): string => scope.join(' ');

/**
 * The scope to issue: the request narrowed within `allowed`; no request means `defaultScope`
 * (RFC 6749 §3.3: the server's pre-defined default), which is all of `allowed` unless configured.
 * Throws `InvalidScope` when the request asks for anything outside `allowed`.
 */
export function resolveScope(
  requested: readonly string[] | undefined,
  allowed: readonly string[],
  defaultScope: readonly string[] = allowed,
): string[] {
  if (requested === undefined) return [...defaultScope];
  const permitted = new Set(allowed);
  const outside = requested.filter((token) => !permitted.has(token));
  if (outside.length > 0) {
    throw new InvalidScope('The requested scope exceeds the scope granted to this client');
  }
  return [...requested];
}

import { isValidUserId, type UserId } from '../core/auth-check';
import { DependencyUnavailable } from '../core/dependency-unavailable';

/**
 * Reads the AuthCheck answer `{"user_id": <string|number|null>}` shared by the HTTP and Lambda hooks.
 * Returns the user id with its JSON type, or `null` for invalid credentials; throws
 * `DependencyUnavailable` for anything else. Messages name JSON types only, never values, because a
 * misbehaving hook may echo the request (and so the password) back at us.
 */
export const parseAuthCheckAnswer = (json: unknown): UserId | null => {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DependencyUnavailable(
      'auth-check',
      `AuthCheck answer is ${describeType(json)}, not a JSON object`,
    );
  }
  if (!Object.hasOwn(json, 'user_id')) {
    throw new DependencyUnavailable('auth-check', 'AuthCheck answer has no user_id');
  }
  const userId: unknown = (json as Record<string, unknown>).user_id;
  if (userId === null) return null;
  if (!isValidUserId(userId)) {
    throw new DependencyUnavailable(
      'auth-check',
      `AuthCheck answered an unusable user_id (${describeType(userId)}); expected a non-empty string of at most 256 characters or a safe number`,
    );
  }
  return userId;
};

const describeType = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string of length ${value.length}`;
  return `of type ${typeof value}`;
};

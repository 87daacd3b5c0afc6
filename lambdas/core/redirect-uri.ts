/** Loopback hosts a native app may listen on with plain http (RFC 8252 §7.3, §8.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Longer than any real redirect URI, short enough to keep a client item and a code item small. */
export const MAX_REDIRECT_URI_LENGTH = 2000;

/**
 * Why `uri` cannot be a redirect URI, or undefined when it can: an absolute URI without fragment
 * (RFC 6749 §3.1.2), `https`, or `http` only on a loopback host (RFC 8252 §7.3, RFC 9700 §2.6).
 * No userinfo either: `https://good@evil` reads like a good host to a person.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > MAX_REDIRECT_URI_LENGTH) {
    return `must be 1 to ${MAX_REDIRECT_URI_LENGTH} characters`;
  }
  // Printable ASCII only (no spaces): anything else would be %-encoded by URL and compare differently.
  if (!/^[\x21-\x7E]+$/.test(uri)) return 'must be printable ASCII without spaces';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (uri.includes('#')) return 'must not have a fragment';
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url)) return undefined;
  return 'must be https, or http on a loopback host (127.0.0.1, [::1], localhost)';
}

const isLoopbackHost = (url: URL): boolean => LOOPBACK_HOSTS.has(url.hostname);

/**
 * RFC 6749 §3.1.2.3 and RFC 9700 §4.1.3: exact string comparison, except that a loopback `http`
 * URI's port may differ (RFC 8252 §7.3: a native app picks a free port at run time).
 */
export function redirectUriMatches(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  let left: URL;
  let right: URL;
  try {
    left = new URL(registered);
    right = new URL(presented);
  } catch {
    return false;
  }
  if (left.protocol !== 'http:' || right.protocol !== 'http:' || !isLoopbackHost(left)) return false;
  // Same URI with the port taken out of both, compared as strings again.
  const withoutPort = (raw: string, url: URL): string | undefined => {
    const authority = `${url.protocol}//${url.host}`;
    if (!raw.toLowerCase().startsWith(authority.toLowerCase())) return undefined;
    return `${url.protocol}//${url.hostname}${raw.slice(authority.length)}`;
  };
  const a = withoutPort(registered, left);
  const b = withoutPort(presented, right);
  return a !== undefined && a === b && redirectUriProblem(presented) === undefined;
}

/** The registered URI the presented one matches, or undefined. */
export const findRedirectUri = (registered: readonly string[], presented: string): string | undefined =>
  registered.find((uri) => redirectUriMatches(uri, presented));

import { InvalidRequest } from './oauth-errors';

/** Decoded form parameters: each name at most once, empty values dropped (RFC 6749 §3.1). */
export type FormParams = ReadonlyMap<string, string>;

const MEDIA_TYPE = 'application/x-www-form-urlencoded';

/**
 * Accepts `application/x-www-form-urlencoded` with optional parameters; only a UTF-8 charset
 * (or none) is accepted because every value we read is UTF-8 text.
 */
export function assertFormContentType(contentType: string | undefined): void {
  const [mediaType = '', ...parameters] = (contentType ?? '')
    .split(';')
    .map((part) => part.trim().toLowerCase());
  if (mediaType !== MEDIA_TYPE) {
    throw new InvalidRequest(`The request body must be ${MEDIA_TYPE}`);
  }
  for (const parameter of parameters) {
    const [name, value = ''] = parameter.split('=').map((part) => part.trim());
    if (name === 'charset' && !['utf-8', 'utf8', '"utf-8"'].includes(value)) {
      throw new InvalidRequest('Only the UTF-8 charset is supported');
    }
  }
}

/** Form decoding as in the WHATWG URL standard, but strict: a malformed %-escape is an error. */
export function decodeFormComponent(raw: string): string {
  // Most names and values (grant types, base64url tokens) carry no escape: nothing to decode.
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  return decodeURIComponent(raw.replaceAll('+', ' '));
}

/**
 * Parses a form body. Throws `InvalidRequest` for malformed escapes and for any parameter
 * sent more than once (RFC 6749 §3.2: parameters MUST NOT be included more than once).
 */
export function parseFormParams(body: string): FormParams {
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq));
      value = eq === -1 ? '' : decodeFormComponent(pair.slice(eq + 1));
    } catch (cause) {
      throw new InvalidRequest('The request body is not valid form encoding', { cause });
    }
    if (seen.has(name)) {
      throw new InvalidRequest(`Parameter ${printableName(name)} is repeated`);
    }
    seen.add(name);
    if (value !== '') params.set(name, value);
  }
  return params;
}

/** error_description must stay printable ASCII (RFC 6749 §5.2), whatever name the client sent. */
const printableName = (name: string): string => {
  const safe = name.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?').slice(0, 40);
  return safe === '' ? '(empty name)' : safe;
};

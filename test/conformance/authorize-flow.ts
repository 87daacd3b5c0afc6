import { createHash, randomBytes } from 'node:crypto';
import { FORM, type HttpAnswer, type ServiceUnderTest, USER } from './service-under-test';

/**
 * The authorization code flow over plain HTTP, as a client and a browser would drive it: GET the
 * authorize URL (redirects not followed), read the sign-in form, post it back with its cookie.
 */
export const REDIRECT_URI = 'https://client.example/callback';

export interface PublicClient {
  readonly client_id: string;
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export const pkcePair = (): Pkce => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/** One request without following redirects (fetch would follow the 302 to the client). */
export async function rawRequest(
  service: ServiceUnderTest,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${service.url}${path}`, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: { 'X-Forwarded-Proto': 'https', ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: undefined };
}

export const authorizePath = (
  params: Record<string, string> | ReadonlyArray<readonly [string, string]>,
): string => `/oauth2/authorize?${new URLSearchParams(params as Record<string, string>).toString()}`;

/** The query of a redirect answer's Location, as a map (the redirect URI's own parameters included). */
export function redirectParams(answer: HttpAnswer): URLSearchParams {
  const location = answer.headers.get('location');
  if (location === null) throw new Error(`no redirect: ${answer.status} ${answer.text.slice(0, 200)}`);
  return new URL(location).searchParams;
}

const unescapeHtml = (text: string): string =>
  text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&#96;', '`')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/** The sign-in page's hidden fields, in order. */
export function hiddenFields(page: string): Array<[string, string]> {
  return [...page.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(
    (match) => [unescapeHtml(match[1] as string), unescapeHtml(match[2] as string)] as [string, string],
  );
}

/** `name=value` of the anti-forgery cookie the page set. */
export function formCookie(answer: HttpAnswer): string {
  const setCookie = answer.headers.get('set-cookie');
  if (setCookie === null) throw new Error('the sign-in page set no cookie');
  return setCookie.split(';')[0] as string;
}

export interface SignInPage {
  readonly answer: HttpAnswer;
  readonly fields: Array<[string, string]>;
  readonly cookie: string;
}

export async function openSignInPage(
  service: ServiceUnderTest,
  params: Record<string, string> | ReadonlyArray<readonly [string, string]>,
): Promise<SignInPage> {
  const answer = await rawRequest(service, authorizePath(params));
  if (answer.status !== 200) throw new Error(`sign-in page: ${answer.status} ${answer.text.slice(0, 300)}`);
  return { answer, fields: hiddenFields(answer.text), cookie: formCookie(answer) };
}

export function postSignIn(
  service: ServiceUnderTest,
  page: SignInPage,
  credentials: { username: string; password: string } = USER,
  options: { cookie?: string; fields?: Array<[string, string]> } = {},
): Promise<HttpAnswer> {
  const fields = options.fields ?? page.fields;
  return rawRequest(service, '/oauth2/authorize', {
    method: 'POST',
    headers: { 'Content-Type': FORM, Cookie: options.cookie ?? page.cookie },
    body: new URLSearchParams([
      ...fields,
      ['username', credentials.username],
      ['password', credentials.password],
    ]).toString(),
  });
}

export const codeRequest = (
  client: PublicClient | { client_id: string },
  pkce: Pkce,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  response_type: 'code',
  client_id: client.client_id,
  redirect_uri: REDIRECT_URI,
  code_challenge: pkce.challenge,
  code_challenge_method: 'S256',
  ...extra,
});

/** The whole front channel: page, sign-in as the demo user, the code from the redirect. */
export async function obtainCode(
  service: ServiceUnderTest,
  client: { client_id: string },
  pkce: Pkce,
  extra: Record<string, string> = {},
): Promise<{ code: string; params: URLSearchParams }> {
  const page = await openSignInPage(service, codeRequest(client, pkce, extra));
  const answer = await postSignIn(service, page);
  if (answer.status !== 302) throw new Error(`sign-in: ${answer.status} ${answer.text.slice(0, 300)}`);
  const params = redirectParams(answer);
  const code = params.get('code');
  if (code === null) throw new Error(`no code: ${answer.headers.get('location')}`);
  return { code, params };
}

export async function createPublicClient(
  service: ServiceUnderTest,
  options: {
    scope?: string;
    redirect_uris?: readonly string[];
    grant_types?: readonly string[];
    name?: string;
  } = {},
): Promise<PublicClient> {
  const created = await service.admin({
    action: 'create-client',
    name: options.name ?? 'public app',
    grant_types: options.grant_types ?? ['authorization_code', 'refresh_token'],
    redirect_uris: options.redirect_uris ?? [REDIRECT_URI],
    token_endpoint_auth_method: 'none',
    ...(options.scope === undefined ? {} : { scope: options.scope }),
  });
  if (typeof created.client_id !== 'string' || 'client_secret' in created) {
    throw new Error(`create-client failed: ${JSON.stringify(created)}`);
  }
  return { client_id: created.client_id };
}

/** The token endpoint's code exchange for a public client (client_id in the body). */
export const exchangeCode = (
  service: ServiceUnderTest,
  client: { client_id: string },
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
) =>
  service.post('/oauth2/token', {
    grant_type: 'authorization_code',
    client_id: client.client_id,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    ...extra,
  });

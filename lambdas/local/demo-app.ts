import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { localLambdaContext, type RawHttpRequest } from './api-gateway-emulation';

/**
 * The local stack's `/demo` app: a public client (no secret) that runs authorization code + PKCE
 * entirely in the browser, so a newcomer can click through the flow after `npm start`.
 * DEMO ONLY: it shows tokens on screen.
 */

/** The name the sign-in page shows for the demo app's client. */
export const DEMO_APP_CLIENT_NAME = 'Local demo app';
export const DEMO_APP_PATH = '/demo';
export const DEMO_APP_CALLBACK_PATH = '/demo/callback';
const DEMO_APP_SCOPE = 'profile email';

export interface DemoAppClient {
  readonly clientId: string;
  /** This stack's callback URLs, one per loopback name (the page uses its own origin's). */
  readonly redirectUris: readonly string[];
}

export interface DemoAppConfig extends DemoAppClient {
  /** Shown as a hint on the page when the built-in demo AuthCheck is in use. */
  readonly demoUser?: { readonly username: string; readonly password: string };
}

type AdminInvoke = (event: unknown, context: Context) => Promise<unknown>;

// The page is static: its script and stylesheet are read once and allowed by hash, so the CSP
// admits exactly these bytes and nothing injected or fetched from elsewhere.
const SCRIPT = readFileSync(new URL('./demo-page.js', import.meta.url), 'utf8');
const STYLE = readFileSync(new URL('./demo-page.css', import.meta.url), 'utf8');
const cspHash = (source: string) =>
  `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;

export const DEMO_APP_CSP = [
  "default-src 'none'",
  `script-src ${cspHash(SCRIPT)}`,
  `style-src ${cspHash(STYLE)}`,
  // Metadata, token and /me are fetched from this origin only.
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': DEMO_APP_CSP,
  'X-Frame-Options': 'DENY',
  // The callback URL carries the code: never hand it to another site in a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
});

/**
 * What the demo client registers: its callback on each loopback name, without a port. The
 * authorize endpoint accepts any port on a loopback http redirect URI (RFC 8252 §7.3), so one
 * client serves every port and every restart on the same data.
 */
export const DEMO_APP_REDIRECT_URIS: readonly string[] = Object.freeze(
  ['127.0.0.1', '[::1]', 'localhost'].map((host) => `http://${host}${DEMO_APP_CALLBACK_PATH}`),
);

/**
 * The callback addresses for a stack listening at `baseUrl`, the listening host's first: where
 * the page may be opened (http is allowed only on loopback, so a stack listening on another
 * address still offers the loopback names to a browser on this machine).
 */
export function demoAppCallbackUris(baseUrl: string): string[] {
  const { port, hostname } = new URL(baseUrl);
  const hosts =
    hostname === '[::1]' ? ['[::1]', '127.0.0.1', 'localhost'] : ['127.0.0.1', '[::1]', 'localhost'];
  return hosts.map((host) => `http://${host}:${port}${DEMO_APP_CALLBACK_PATH}`);
}

/** Finds the demo app's public client (registered by an earlier run on the same data), or creates it. */
export async function ensureDemoAppClient(admin: AdminInvoke, baseUrl: string): Promise<DemoAppClient> {
  const redirectUris = demoAppCallbackUris(baseUrl);
  const context = () => localLambdaContext('admin');
  const listed = (await admin({ action: 'list-clients' }, context())) as {
    clients?: Array<{ client_id: string; name: string; disabled: boolean; redirect_uris?: string[] }>;
  };
  const registered = JSON.stringify(DEMO_APP_REDIRECT_URIS);
  const existing = (listed.clients ?? []).find(
    (client) =>
      client.name === DEMO_APP_CLIENT_NAME &&
      !client.disabled &&
      JSON.stringify(client.redirect_uris ?? []) === registered,
  );
  if (existing !== undefined) return { clientId: existing.client_id, redirectUris };
  const created = (await admin(
    {
      action: 'create-client',
      name: DEMO_APP_CLIENT_NAME,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: DEMO_APP_REDIRECT_URIS,
      scope: DEMO_APP_SCOPE,
    },
    context(),
  )) as { client_id?: string; error?: string; error_description?: string };
  if (created.client_id === undefined) {
    throw new Error(
      `could not create the demo app's client: ${created.error ?? 'unknown error'} ${created.error_description ?? ''}`,
    );
  }
  return { clientId: created.client_id, redirectUris };
}

/** Answers `/demo` and `/demo/callback` (the same page; its script tells them apart), else undefined. */
export function demoAppResponse(
  raw: RawHttpRequest,
  config: DemoAppConfig,
): APIGatewayProxyResult | undefined {
  if (raw.path !== DEMO_APP_PATH && raw.path !== DEMO_APP_CALLBACK_PATH) return undefined;
  if (raw.method !== 'GET' && raw.method !== 'HEAD') {
    return {
      statusCode: 405,
      headers: { ...PAGE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' },
      body: 'Method Not Allowed',
    };
  }
  return {
    statusCode: 200,
    headers: { ...PAGE_HEADERS },
    body: raw.method === 'HEAD' ? '' : renderDemoPage(config),
  };
}

/** The page, with the client's settings as a JSON data block (inert under CSP: never executed). */
export function renderDemoPage(config: DemoAppConfig): string {
  const settings = {
    clientId: config.clientId,
    redirectUris: config.redirectUris,
    scope: DEMO_APP_SCOPE,
    demoPath: DEMO_APP_PATH,
    callbackPath: DEMO_APP_CALLBACK_PATH,
    authorizePath: '/oauth2/authorize',
    tokenPath: '/oauth2/token',
    mePath: '/me',
    metadataPath: '/.well-known/oauth-authorization-server',
    ...(config.demoUser !== undefined && { demoUser: config.demoUser }),
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo app: sign in with OAuth 2.0</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Demo app: authorization code + PKCE</h1>
<p>This page is a <strong>public client</strong> of the local stack: it has no secret, and it runs the whole OAuth 2.0 flow in your browser. Each step below shows what was sent and what came back.</p>
<p class="warn">DEMO ONLY: a real app never shows its tokens.</p>
<dl>
<dt>client_id</dt><dd id="client-id">${escapeHtml(config.clientId)}</dd>
<dt>redirect_uri</dt><dd id="redirect-uri"></dd>
</dl>
<ol id="steps"></ol>
<div id="actions"></div>
<noscript><p>This demo app runs OAuth in the browser, so it needs JavaScript. The sign-in page itself works without it.</p></noscript>
</main>
<script type="application/json" id="demo-config">${jsonForScript(settings)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);

/** JSON that cannot close its `<script>` element or start a comment inside it. */
const jsonForScript = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

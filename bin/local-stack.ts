#!/usr/bin/env node
import { ConfigurationError } from '../lambdas/handlers/configuration-error';
import { EnvironmentReader } from '../lambdas/handlers/environment-reader';
import { DEMO_USER } from '../lambdas/local/demo-auth-check-hook';
import { type LocalStack, startLocalStack } from '../lambdas/local/local-stack';

/** Settings the Lambdas read that the local stack passes through unchanged. */
const PASS_THROUGH = [
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'REFRESH_REUSE_GRACE_SECONDS',
  'REFRESH_TOKEN_MAX_LIFETIME_SECONDS',
  'LOCKOUT_THRESHOLD',
  'LOCKOUT_BASE_SECONDS',
  'LOCKOUT_MAX_SECONDS',
  // Your own key instead of the generated one (or the one kept under DATA_DIR).
  'LOCKOUT_KEY_SECRET',
  'AUTH_CHECK_TIMEOUT_MS',
  'AUTH_CHECK_ALLOW_INSECURE_HTTP',
  'CLIENT_CACHE_TTL_SECONDS',
  'SESSION_CHECK_URL',
  'ISSUER',
  'SCOPES_SUPPORTED',
  'SESSION_CHECK_SECRET',
  'SESSION_CHECK_TIMEOUT_MS',
  'LOG_LEVEL',
  'DISABLE_CLIENT_SECOND_SWEEP_SECONDS',
  'ACCESS_TOKEN_FORMAT',
  'ACCESS_TOKEN_AUDIENCE',
  'JWT_AUDIENCE',
  'JWT_REVOCATION_CHECK',
  'SIGNING_KEY_ROTATION_DAYS',
  'SIGNING_KEY_PUBLISH_AHEAD_SECONDS',
  'AUTHORIZATION_CODE_TTL_SECONDS',
];

async function main(): Promise<void> {
  const started = performance.now();
  // The Lambdas run on Node 22+; on a Node 20 laptop the SDK's upgrade notice is noise, not news.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const env = new EnvironmentReader(process.env);
  const host = env.optional('HOST') ?? '127.0.0.1';
  const port = env.integer('PORT', 3000, { min: 0, max: 65_535 });
  const dataDir = env.optional('DATA_DIR');
  const dynamodbEndpoint = env.optional('DYNAMODB_ENDPOINT');
  const authCheckUrl = env.optional('AUTH_CHECK_URL');
  const authCheckSecret = env.optional('AUTH_CHECK_SECRET');
  const environment: Record<string, string> = Object.fromEntries(
    PASS_THROUGH.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  );
  // Locally the audit events are the point of watching the log: INFO unless told otherwise.
  environment.LOG_LEVEL ??= 'INFO';
  const stack = await startLocalStack({
    host,
    port,
    requireSsl: env.boolean('REQUIRE_SSL', false),
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint }),
    ...(authCheckUrl === undefined ? {} : { authCheckUrl }),
    ...(authCheckSecret === undefined ? {} : { authCheckSecret }),
    environment,
  });
  printBanner(stack, {
    host,
    dataDir,
    dynamodbEndpoint,
    logLevel: environment.LOG_LEVEL,
    ms: performance.now() - started,
  });
  // `npm start` is one process (package.json runs node with tsx as a loader), so the signal a
  // process manager sends npm reaches us: stop the server and the store, then exit. A stuck close
  // must not keep the port: exit anyway after a few seconds, or at once on a second signal.
  const shutdown = (signal: NodeJS.Signals) => {
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    process.once(signal, () => process.exit(1));
    void stack.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

const SHUTDOWN_GRACE_MS = 3_000;
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Only what works in this configuration: on a wildcard address the URLs printed are loopback ones
 * (`http://0.0.0.0:…` is no address to call), and the admin endpoint answers only a loopback
 * `Host`, so it is printed only where this machine can reach it over loopback.
 */
function printBanner(
  stack: LocalStack,
  info: { host: string; dataDir?: string; dynamodbEndpoint?: string; logLevel: string; ms: number },
) {
  const port = new URL(stack.url).port;
  const wildcard = WILDCARD_HOSTS.has(info.host);
  const loopback = LOOPBACK_HOSTS.has(info.host) || /^127\./.test(info.host);
  const url = wildcard ? `http://${info.host.includes(':') ? '[::1]' : '127.0.0.1'}:${port}` : stack.url;
  const lines = [
    `OAuth 2.0 token service (local stack) ready in ${Math.round(info.ms)} ms`,
    `  base URL:      ${url}`,
    `  token:         POST ${url}/oauth2/token`,
    `  demo resource: GET  ${url}/me`,
    `  JWKS:          GET  ${url}/.well-known/jwks.json (access tokens: ${process.env.ACCESS_TOKEN_FORMAT ?? 'opaque'})`,
    ...(stack.demoApp === undefined
      ? []
      : [`  demo app:      ${url}/demo  (open in a browser: sign in with authorization code + PKCE)`]),
    wildcard || loopback
      ? `  admin:         npm run cli -- list-clients --endpoint-url ${url} --function-name admin   (or aws lambda invoke --endpoint-url ${url} --function-name admin …)`
      : `  admin:         not reachable: the Invoke API answers only a loopback Host; listen on 127.0.0.1 or 0.0.0.0 to use it`,
    `  store:         ${info.dynamodbEndpoint ?? (info.dataDir === undefined ? 'embedded dynalite, in memory (lost on exit)' : `embedded dynalite on disk at ${info.dataDir}`)}`,
    `  HTTPS:         ${stack.requireSsl ? 'required (send X-Forwarded-Proto: https from your TLS proxy)' : 'NOT required (REQUIRE_SSL=false: plain HTTP, for loopback development only)'}`,
    `  log level:     ${info.logLevel} (audit events are INFO; set LOG_LEVEL to change)`,
  ];
  if (!loopback) {
    lines.push(
      `  WARNING: listening on ${info.host}, not loopback: the token endpoints are reachable from other machines.`,
    );
  }
  if (stack.usesDemoAuthCheck) {
    lines.push(
      '',
      '  AuthCheck: built-in DEMO checker (DEMO ONLY, set AUTH_CHECK_URL for your own hook)',
      `    demo user: username "${DEMO_USER.username}", password "${DEMO_USER.password}", user_id ${DEMO_USER.userId}`,
    );
  }
  if (!stack.usesDemoAuthCheck) {
    lines.push('', `  AuthCheck: your hook at ${redactedUrl(process.env.AUTH_CHECK_URL ?? '')}`);
  }
  if (stack.demoClient !== undefined) {
    const { clientId, clientSecret } = stack.demoClient;
    lines.push(
      '',
      `  demo client (DEMO ONLY): client_id ${clientId}`,
      `                           client_secret ${clientSecret}`,
      '',
      // The demo password works only with the demo checker; with a real hook, a user of yours does.
      ...(stack.usesDemoAuthCheck
        ? [
            'Try a password grant:',
            `  curl -s -u '${clientId}:${clientSecret}' -d grant_type=password -d username=${DEMO_USER.username} -d password=${DEMO_USER.password} ${url}/oauth2/token`,
          ]
        : [
            'Try a client_credentials grant (for a password grant, use a user your AuthCheck knows):',
            `  curl -s -u '${clientId}:${clientSecret}' -d grant_type=client_credentials ${url}/oauth2/token`,
          ]),
    );
  }
  if (stack.demoApp !== undefined) {
    lines.push('', 'Or sign in with a browser (authorization code + PKCE):', `  open ${stack.demoApp.url}`);
  }
  console.log(lines.join('\n'));
}

/** The hook URL without any userinfo or query (it may carry a token). */
function redactedUrl(raw: string): string {
  try {
    const parsed = new URL(raw);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigurationError
      ? `configuration error: ${error.message}`
      : String(error instanceof Error ? error.stack : error);
  console.error(`local stack failed to start: ${message}`);
  process.exit(1);
});

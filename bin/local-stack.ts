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
  const environment = Object.fromEntries(
    PASS_THROUGH.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  );
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
  printBanner(stack, { host, dataDir, dynamodbEndpoint, ms: performance.now() - started });
  const shutdown = () => {
    void stack.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function printBanner(
  stack: LocalStack,
  info: { host: string; dataDir?: string; dynamodbEndpoint?: string; ms: number },
) {
  const lines = [
    `OAuth 2.0 token service (local stack) ready in ${Math.round(info.ms)} ms`,
    `  base URL:      ${stack.url}`,
    `  token:         POST ${stack.url}/oauth2/token`,
    `  demo resource: GET  ${stack.url}/me`,
    `  JWKS:          GET  ${stack.url}/.well-known/jwks.json (access tokens: ${process.env.ACCESS_TOKEN_FORMAT ?? 'opaque'})`,
    `  admin:         aws lambda invoke --endpoint-url ${stack.url} --function-name admin ...`,
    `  store:         ${info.dynamodbEndpoint ?? (info.dataDir === undefined ? 'embedded dynalite, in memory (lost on exit)' : `embedded dynalite on disk at ${info.dataDir}`)}`,
    `  HTTPS:         ${stack.requireSsl ? 'required (send X-Forwarded-Proto: https from your TLS proxy)' : 'NOT required (REQUIRE_SSL=false: plain HTTP, for loopback development only)'}`,
  ];
  if (info.host !== '127.0.0.1' && info.host !== 'localhost' && info.host !== '::1') {
    lines.push(
      `  WARNING: listening on ${info.host}, not loopback: the admin Invoke API has no authentication here.`,
    );
  }
  if (stack.usesDemoAuthCheck) {
    lines.push(
      '',
      '  AuthCheck: built-in DEMO checker (DEMO ONLY, set AUTH_CHECK_URL for your own hook)',
      `    demo user: username "${DEMO_USER.username}", password "${DEMO_USER.password}", user_id ${DEMO_USER.userId}`,
    );
  }
  if (stack.demoClient !== undefined) {
    const { clientId, clientSecret } = stack.demoClient;
    lines.push(
      '',
      `  demo client (DEMO ONLY): client_id ${clientId}`,
      `                           client_secret ${clientSecret}`,
      '',
      'Try a password grant:',
      `  curl -s -u '${clientId}:${clientSecret}' -d grant_type=password -d username=${DEMO_USER.username} -d password=${DEMO_USER.password} ${stack.url}/oauth2/token`,
    );
  }
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigurationError
      ? `configuration error: ${error.message}`
      : String(error instanceof Error ? error.stack : error);
  console.error(`local stack failed to start: ${message}`);
  process.exit(1);
});

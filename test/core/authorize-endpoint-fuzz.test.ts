import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { noAudit } from '../../lambdas/core/audit-event';
import { type AuthorizeDeps, authorize, REQUEST_FIELDS } from '../../lambdas/core/authorize-endpoint';
import { DEFAULT_LOCKOUT_POLICY } from '../../lambdas/core/password-lockout';
import { InMemoryAuthorizationCodeStore } from '../../lambdas/store/in-memory-authorization-code-store';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { InMemoryLockoutStore } from '../../lambdas/store/in-memory-lockout-store';
import { anyString, percentGarbage } from '../support/fuzz-arbitraries';

// Any query, any form body, any cookie: the authorize endpoint answers a page or a redirect of its
// own, never throws (a throw would be a 500 page). Known names are mixed in so the fuzz reaches past
// the client lookup into the later checks and the form.

const CLIENT_ID = 'fuzz-client';
let deps: AuthorizeDeps;

beforeAll(async () => {
  const clients = new InMemoryClientStore();
  await clients.createClient({
    clientId: CLIENT_ID,
    name: 'Fuzz <app>',
    grantTypes: ['authorization_code'],
    scope: ['read'],
    redirectUris: ['https://client.example/cb', 'http://127.0.0.1/cb'],
    tokenEndpointAuthMethod: 'none',
    disabled: false,
    createdAt: 0,
    updatedAt: 0,
  });
  deps = {
    clients,
    codes: new InMemoryAuthorizationCodeStore(),
    lockouts: new InMemoryLockoutStore(),
    lockoutKeySecret: async () => 'l'.repeat(32),
    authCheck: { checkCredentials: async ({ password }) => (password === 'right' ? 7 : null) },
    formSecret: async () => 'f'.repeat(32),
    clock: () => 1_700_000_000_000,
    random: randomBytes,
    audit: noAudit,
  };
});

const names = fc.oneof(
  fc.constantFrom(...REQUEST_FIELDS, 'form_token', 'username', 'password'),
  anyString(12),
);
const values = fc.oneof(
  fc.constantFrom(
    CLIENT_ID,
    'code',
    'S256',
    'read',
    'https://client.example/cb',
    'http://127.0.0.1:9/cb',
    'a'.repeat(43),
  ),
  anyString(60),
  percentGarbage,
);
const pairs = fc.array(fc.tuple(names, values), { maxLength: 12 });

describe('authorize under fuzzing', () => {
  it('answers any GET query or POST body with an outcome of its own, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('GET', 'POST', 'PUT'),
          secure: fc.boolean(),
          query: pairs,
          body: fc.oneof(
            pairs.map((list) => new URLSearchParams(list).toString()),
            anyString(200),
          ),
          contentType: fc.constantFrom('application/x-www-form-urlencoded', 'text/plain', undefined),
          browserKey: fc.option(fc.oneof(anyString(50), fc.constant('k'.repeat(43))), { nil: undefined }),
        }),
        async ({ method, secure, query, body, contentType, browserKey }) => {
          const outcome = await authorize(
            {
              method,
              secure,
              query,
              contentType,
              body: () => body,
              cookieHeader: undefined,
              browserKey,
              issuer: 'https://issuer.example',
              url: 'https://issuer.example/oauth2/authorize',
            },
            { requireSsl: true, codeTtlSeconds: 60, lockout: DEFAULT_LOCKOUT_POLICY },
            deps,
          );
          expect(['error-page', 'redirect', 'sign-in']).toContain(outcome.kind);
          if (outcome.kind === 'error-page') {
            expect(outcome.error.status).toBeGreaterThanOrEqual(400);
            expect(outcome.error.status).toBeLessThan(500);
          }
          if (outcome.kind === 'redirect') {
            expect(outcome.location).toMatch(
              /^(https:\/\/client\.example\/cb|http:\/\/127\.0\.0\.1(:\d+)?\/cb)\?/,
            );
            // Nothing but a valid form with the right password ever yields a code; here none is valid.
            expect(new URL(outcome.location).searchParams.get('code')).toBeNull();
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import type { HookCall } from './loopback-hooks';

/**
 * Where the life cycle runs: the emulated deployment (verify:deployment) or a real stack (test:aws).
 * Everything a step needs comes from here, so the same list drives both.
 */
export interface LifeCycleTarget {
  /** The API's base URL (`https://<id>.execute-api.<region>.amazonaws.com/prod`, or the emulation's). */
  readonly baseUrl: string;
  /** `GET /me`-style routes the API serves, to run the steps of routes that exist. */
  readonly routes: readonly string[];
  /** Invokes the admin function with this payload and returns its JSON answer. */
  admin(payload: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A user the deployment's AuthCheck accepts. */
  readonly user: { readonly username: string; readonly password: string; readonly userId?: unknown };
  /** A Cookie header the session check accepts, when the authorizer has one. */
  readonly sessionCookie?: string;
  /** The token function's LOCKOUT_THRESHOLD (0 = off). */
  readonly lockoutThreshold: number;
  /** The RFC 8414 issuer the metadata must name. */
  readonly expectedIssuer?: string;
  /** The hooks' requests, when the run can see them (emulation only). */
  readonly hookCalls?: () => readonly HookCall[];
  /** Prefix of the clients this run creates (so a real-account run can find and disable its own). */
  readonly clientNamePrefix: string;
}

export interface LifeCycleState {
  client?: { id: string; secret: string };
  accessToken?: string;
  refreshToken?: string;
  /** Every client created, and those already disabled, for clean-up. */
  readonly createdClients: string[];
  readonly disabledClients: string[];
}

export interface LifeCycleStep {
  readonly name: string;
  /** The routes this step needs; it is skipped (with the reason) when the API lacks one. */
  readonly needs?: readonly string[];
  /** Another reason to skip, e.g. no session check configured. */
  readonly skipUnless?: (target: LifeCycleTarget) => string | undefined;
  run(target: LifeCycleTarget, state: LifeCycleState): Promise<void>;
}

export class StepFailure extends Error {
  override name = 'StepFailure';
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepFailure(message);
}

interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

const describe = (answer: HttpAnswer) => `${answer.status} ${answer.text.slice(0, 300)}`;

async function call(
  target: LifeCycleTarget,
  method: string,
  path: string,
  options: {
    form?: Record<string, string>;
    basic?: { id: string; secret: string };
    headers?: Record<string, string>;
  } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.basic !== undefined) {
    const pair = `${encodeURIComponent(options.basic.id)}:${encodeURIComponent(options.basic.secret)}`;
    headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  let body: string | undefined;
  if (options.form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${target.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status: response.status, headers: response.headers, text, json };
}

const clientOf = (state: LifeCycleState) => {
  check(state.client !== undefined, 'no client: create-client did not succeed');
  return state.client;
};

async function passwordGrant(
  target: LifeCycleTarget,
  state: LifeCycleState,
  username: string,
  password: string,
) {
  return call(target, 'POST', '/oauth2/token', {
    basic: clientOf(state),
    form: { grant_type: 'password', username, password },
  });
}

async function introspect(target: LifeCycleTarget, state: LifeCycleState, token: string) {
  const answer = await call(target, 'POST', '/oauth2/introspect', {
    basic: clientOf(state),
    form: { token },
  });
  check(answer.status === 200, `introspection answered ${describe(answer)}`);
  return answer.json;
}

async function admin(target: LifeCycleTarget, payload: Record<string, unknown>) {
  const answer = await target.admin(payload);
  check(answer.error === undefined, `admin ${String(payload.action)} answered ${JSON.stringify(answer)}`);
  return answer;
}

const hookCallCount = (target: LifeCycleTarget, kind: HookCall['kind']) =>
  target.hookCalls?.().filter((hookCall) => hookCall.kind === kind).length ?? 0;

/** A username no AuthCheck knows: its failures lock only itself. */
const strangerName = () => `verification-${randomBytes(6).toString('hex')}`;

/**
 * The life cycle, in order. Each step states what it proves; add a step here to cover a new route
 * (a route of the template that no step calls is reported by the verification).
 */
export const LIFE_CYCLE_STEPS: readonly LifeCycleStep[] = [
  {
    name: 'admin invoke create-client',
    async run(target, state) {
      const created = await admin(target, {
        action: 'create-client',
        name: `${target.clientNamePrefix}${randomBytes(4).toString('hex')}`,
        grant_types: ['password', 'refresh_token', 'client_credentials'],
        scope: 'profile email',
      });
      check(
        typeof created.client_id === 'string' && typeof created.client_secret === 'string',
        `create-client answered ${JSON.stringify(created)}`,
      );
      state.client = { id: created.client_id, secret: created.client_secret };
      state.createdClients.push(created.client_id);
    },
  },
  {
    name: 'POST /oauth2/token password grant through the signed AuthCheck hook',
    needs: ['POST /oauth2/token'],
    async run(target, state) {
      const before = hookCallCount(target, 'credentials');
      const answer = await passwordGrant(target, state, target.user.username, target.user.password);
      check(answer.status === 200, `password grant answered ${describe(answer)}`);
      check(
        typeof answer.json.access_token === 'string' && typeof answer.json.refresh_token === 'string',
        'no token pair in the answer',
      );
      check(
        answer.headers.get('cache-control') === 'no-store',
        'the token answer lacks Cache-Control: no-store',
      );
      if (target.user.userId !== undefined)
        check(answer.json.user_id === target.user.userId, `user_id ${JSON.stringify(answer.json.user_id)}`);
      if (target.hookCalls !== undefined) {
        const calls = target
          .hookCalls()
          .filter((hookCall) => hookCall.kind === 'credentials')
          .slice(before);
        check(calls.length === 1, `the AuthCheck was called ${calls.length} times, expected once`);
        check(
          calls[0]?.via === 'lambda' || calls[0]?.signed === true,
          'the AuthCheck request was not signed with the hook secret',
        );
      }
      state.accessToken = answer.json.access_token as string;
      state.refreshToken = answer.json.refresh_token as string;
    },
  },
  {
    name: 'GET /me with the access token through the template authorizer',
    needs: ['GET /me'],
    async run(target, state) {
      const answer = await call(target, 'GET', '/me', {
        headers: { Authorization: `Bearer ${state.accessToken}` },
      });
      check(answer.status === 200, `/me answered ${describe(answer)}`);
      check(
        answer.json.client_id === clientOf(state).id,
        `/me names client ${JSON.stringify(answer.json.client_id)}`,
      );
      if (target.user.userId !== undefined)
        check(
          answer.json.user_id === target.user.userId,
          `/me names user ${JSON.stringify(answer.json.user_id)}`,
        );
    },
  },
  {
    name: 'GET /me without a token is refused with the gateway 401 and its challenge',
    needs: ['GET /me'],
    async run(target) {
      const answer = await call(target, 'GET', '/me');
      check(answer.status === 401, `/me without a token answered ${describe(answer)}`);
      check(
        /^Bearer /.test(answer.headers.get('www-authenticate') ?? ''),
        'no WWW-Authenticate: Bearer challenge',
      );
    },
  },
  {
    name: 'GET /me with a session cookie through the session check hook',
    needs: ['GET /me'],
    skipUnless: (target) => (target.sessionCookie === undefined ? 'no session check configured' : undefined),
    async run(target) {
      const before = hookCallCount(target, 'session');
      const answer = await call(target, 'GET', '/me', {
        headers: { Cookie: target.sessionCookie as string },
      });
      check(answer.status === 200, `/me with a session cookie answered ${describe(answer)}`);
      if (target.hookCalls !== undefined) {
        const calls = target
          .hookCalls()
          .filter((hookCall) => hookCall.kind === 'session')
          .slice(before);
        check(
          calls.length > 0 && calls.every((hookCall) => hookCall.via === 'lambda' || hookCall.signed),
          'the session check was not called with a signed request',
        );
      }
    },
  },
  {
    name: 'GET and POST /oauth2/authorize: a public client signs the user in with PKCE; the code is exchanged once',
    needs: ['GET /oauth2/authorize', 'POST /oauth2/authorize', 'POST /oauth2/token'],
    async run(target, state) {
      const redirectUri = 'https://client.example/callback';
      const created = await admin(target, {
        action: 'create-client',
        name: `${target.clientNamePrefix}${randomBytes(4).toString('hex')}`,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
      });
      check(typeof created.client_id === 'string', `create-client answered ${JSON.stringify(created)}`);
      const clientId = created.client_id as string;
      state.createdClients.push(clientId);
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'verification-state',
      });
      const page = await call(target, 'GET', `/oauth2/authorize?${query}`);
      check(page.status === 200, `the sign-in page answered ${describe(page)}`);
      check(
        /frame-ancestors 'none'/.test(page.headers.get('content-security-policy') ?? '') &&
          page.headers.get('cache-control')?.includes('no-store') === true,
        'the sign-in page lacks its CSP (frame-ancestors) or no-store',
      );
      const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      check(cookie.includes('='), 'the sign-in page set no anti-forgery cookie');
      const hidden = [...page.text.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(
        (match) => [match[1] as string, (match[2] as string).replaceAll('&amp;', '&')] as [string, string],
      );
      const signedIn = await call(target, 'POST', '/oauth2/authorize', {
        headers: { Cookie: cookie },
        form: Object.fromEntries([
          ...hidden,
          ['username', target.user.username],
          ['password', target.user.password],
        ]),
      });
      check(signedIn.status === 302, `the sign-in answered ${describe(signedIn)}`);
      const location = new URL(signedIn.headers.get('location') ?? 'about:blank');
      check(
        `${location.origin}${location.pathname}` === redirectUri,
        `redirected to ${location.origin}${location.pathname}`,
      );
      const code = location.searchParams.get('code');
      check(code !== null, `no code in ${location.search}`);
      check(location.searchParams.get('state') === 'verification-state', 'state not returned');
      if (target.expectedIssuer !== undefined)
        check(
          location.searchParams.get('iss') === target.expectedIssuer,
          `iss ${location.searchParams.get('iss')}`,
        );
      const exchange = {
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        code_verifier: verifier,
        redirect_uri: redirectUri,
      };
      const tokens = await call(target, 'POST', '/oauth2/token', { form: exchange });
      check(
        tokens.status === 200 && typeof tokens.json.access_token === 'string',
        `the code exchange answered ${describe(tokens)}`,
      );
      if (target.user.userId !== undefined)
        check(tokens.json.user_id === target.user.userId, `user_id ${JSON.stringify(tokens.json.user_id)}`);
      const replay = await call(target, 'POST', '/oauth2/token', { form: exchange });
      check(
        replay.status === 400 && replay.json.error === 'invalid_grant',
        `a replayed code answered ${describe(replay)}`,
      );
    },
  },
  {
    name: 'GET /.well-known/jwks.json publishes the signing key, cacheable; a JWT access token verifies against it',
    needs: ['GET /.well-known/jwks.json'],
    async run(target, state) {
      const answer = await call(target, 'GET', '/.well-known/jwks.json');
      check(answer.status === 200, `the JWKS answered ${describe(answer)}`);
      const maxAge = /^public, max-age=(\d+)$/.exec(answer.headers.get('cache-control') ?? '');
      check(
        maxAge !== null && Number(maxAge[1]) <= 3600,
        `Cache-Control ${answer.headers.get('cache-control')}`,
      );
      const keys = Array.isArray(answer.json.keys) ? (answer.json.keys as Record<string, unknown>[]) : [];
      // The deploy-time custom resource made the first key: an empty set means it never ran.
      check(keys.length > 0, 'the JWKS has no key: the first signing key was never made');
      for (const key of keys)
        check(
          key.kty === 'RSA' &&
            key.use === 'sig' &&
            key.alg === 'RS256' &&
            typeof key.kid === 'string' &&
            !('d' in key),
          `a published key is not an RSA public signing key: ${JSON.stringify(Object.keys(key))}`,
        );
      const token = state.accessToken ?? '';
      if (token.split('.').length !== 3) return; // opaque mode: nothing to verify
      const { payload, protectedHeader } = await jwtVerify(
        token,
        createLocalJWKSet({ keys } as JSONWebKeySet),
        {
          algorithms: ['RS256'],
          typ: 'at+jwt',
          ...(target.expectedIssuer === undefined ? {} : { issuer: target.expectedIssuer }),
        },
      ).catch((error: unknown) => {
        throw new StepFailure(`the access token does not verify against the JWKS: ${String(error)}`);
      });
      check(
        keys.some((key) => key.kid === protectedHeader.kid),
        'the token names a kid the JWKS lacks',
      );
      check(payload.client_id === clientOf(state).id, `client_id claim ${JSON.stringify(payload.client_id)}`);
      if (target.user.userId !== undefined)
        check(payload.user_id === target.user.userId, `user_id claim ${JSON.stringify(payload.user_id)}`);
    },
  },
  {
    name: 'GET /.well-known/openid-configuration names the issuer and jwks_uri, and no ID tokens',
    needs: ['GET /.well-known/openid-configuration'],
    async run(target) {
      const answer = await call(target, 'GET', '/.well-known/openid-configuration');
      check(answer.status === 200, `openid-configuration answered ${describe(answer)}`);
      const issuer = String(answer.json.issuer);
      if (target.expectedIssuer !== undefined)
        check(issuer === target.expectedIssuer, `issuer ${issuer}, expected ${target.expectedIssuer}`);
      check(
        answer.json.jwks_uri === `${issuer}/.well-known/jwks.json`,
        `jwks_uri ${String(answer.json.jwks_uri)}`,
      );
      check(
        !JSON.stringify(answer.json.response_types_supported ?? []).includes('id_token'),
        'the document claims ID tokens, which the service does not issue',
      );
    },
  },
  {
    name: 'POST /oauth2/token refresh rotates the pair; the old tokens are dead at once',
    needs: ['POST /oauth2/token', 'POST /oauth2/introspect'],
    async run(target, state) {
      const oldAccess = state.accessToken as string;
      const oldRefresh = state.refreshToken as string;
      const answer = await call(target, 'POST', '/oauth2/token', {
        basic: clientOf(state),
        form: { grant_type: 'refresh_token', refresh_token: oldRefresh },
      });
      check(answer.status === 200, `refresh answered ${describe(answer)}`);
      check(
        answer.json.access_token !== oldAccess && answer.json.refresh_token !== oldRefresh,
        'refresh did not rotate the pair',
      );
      state.accessToken = answer.json.access_token as string;
      state.refreshToken = answer.json.refresh_token as string;
      // Introspection, not /me: API Gateway's authorizer cache may keep a decision for its TTL.
      check(
        (await introspect(target, state, oldAccess)).active === false,
        'the old access token is still active',
      );
    },
  },
  {
    name: 'POST /oauth2/introspect reports the current access token active',
    needs: ['POST /oauth2/introspect'],
    async run(target, state) {
      const answer = await introspect(target, state, state.accessToken as string);
      check(
        answer.active === true && answer.client_id === clientOf(state).id,
        `introspection answered ${JSON.stringify(answer)}`,
      );
    },
  },
  {
    name: 'POST /oauth2/token client_credentials grant',
    needs: ['POST /oauth2/token'],
    async run(target, state) {
      const answer = await call(target, 'POST', '/oauth2/token', {
        basic: clientOf(state),
        form: { grant_type: 'client_credentials', scope: 'profile' },
      });
      check(
        answer.status === 200 && typeof answer.json.access_token === 'string',
        `client_credentials answered ${describe(answer)}`,
      );
      check(answer.json.refresh_token === undefined, 'client_credentials issued a refresh token');
    },
  },
  {
    name: 'POST /oauth2/revoke revokes the grant; introspection says inactive',
    needs: ['POST /oauth2/revoke', 'POST /oauth2/introspect'],
    async run(target, state) {
      const answer = await call(target, 'POST', '/oauth2/revoke', {
        basic: clientOf(state),
        form: { token: state.refreshToken as string, token_type_hint: 'refresh_token' },
      });
      check(answer.status === 200, `revocation answered ${describe(answer)}`);
      check(
        (await introspect(target, state, state.accessToken as string)).active === false,
        'the access token of a revoked grant is still active',
      );
    },
  },
  {
    name: 'GET /.well-known/oauth-authorization-server names the issuer and endpoints',
    needs: ['GET /.well-known/oauth-authorization-server'],
    async run(target) {
      const answer = await call(target, 'GET', '/.well-known/oauth-authorization-server');
      check(answer.status === 200, `metadata answered ${describe(answer)}`);
      const issuer = String(answer.json.issuer);
      if (target.expectedIssuer !== undefined)
        check(issuer === target.expectedIssuer, `issuer ${issuer}, expected ${target.expectedIssuer}`);
      check(
        answer.json.token_endpoint === `${issuer}/oauth2/token`,
        `token_endpoint ${String(answer.json.token_endpoint)}`,
      );
    },
  },
  {
    name: 'a failed password then the right one: signed in, failure count cleared',
    needs: ['POST /oauth2/token'],
    skipUnless: (target) => (target.lockoutThreshold < 2 ? 'lockout threshold below 2' : undefined),
    async run(target, state) {
      const wrong = await passwordGrant(target, state, target.user.username, `${target.user.password}-wrong`);
      check(
        wrong.status === 400 && wrong.json.error === 'invalid_grant',
        `a wrong password answered ${describe(wrong)}`,
      );
      const right = await passwordGrant(target, state, target.user.username, target.user.password);
      check(right.status === 200, `the right password after one failure answered ${describe(right)}`);
    },
  },
  {
    name: 'lockout: LOCKOUT_THRESHOLD failures lock the username, without asking the AuthCheck again',
    needs: ['POST /oauth2/token'],
    skipUnless: (target) =>
      target.lockoutThreshold === 0 ? 'lockout is off (LOCKOUT_THRESHOLD=0)' : undefined,
    async run(target, state) {
      const username = strangerName();
      for (let attempt = 1; attempt <= target.lockoutThreshold; attempt += 1) {
        const answer = await passwordGrant(target, state, username, `guess-${attempt}`);
        check(
          answer.status === 400 &&
            answer.json.error === 'invalid_grant' &&
            !answer.headers.has('retry-after'),
          `failure ${attempt} answered ${describe(answer)}`,
        );
      }
      const before = hookCallCount(target, 'credentials');
      const locked = await passwordGrant(target, state, username, 'another-guess');
      check(
        locked.status === 400 && locked.json.error === 'invalid_grant',
        `a locked username answered ${describe(locked)}`,
      );
      check(Number(locked.headers.get('retry-after')) > 0, 'a locked username got no Retry-After');
      check(
        hookCallCount(target, 'credentials') === before,
        'the AuthCheck was called for a locked username',
      );
      (state as { lockedUsername?: string }).lockedUsername = username;
    },
  },
  {
    name: 'admin invoke unlock-username ends the lock at once',
    needs: ['POST /oauth2/token'],
    skipUnless: (target) =>
      target.lockoutThreshold === 0 ? 'lockout is off (LOCKOUT_THRESHOLD=0)' : undefined,
    async run(target, state) {
      const username = (state as { lockedUsername?: string }).lockedUsername;
      check(username !== undefined, 'no locked username from the lockout step');
      const answer = await admin(target, { action: 'unlock-username', username });
      check(answer.unlocked === true, `unlock-username answered ${JSON.stringify(answer)}`);
      const next = await passwordGrant(target, state, username, 'after-unlock');
      check(
        next.status === 400 && !next.headers.has('retry-after'),
        `after unlock a wrong password answered ${describe(next)} (still locked?)`,
      );
    },
  },
  {
    name: 'admin invoke list-clients lists the new client',
    async run(target, state) {
      const answer = await admin(target, { action: 'list-clients' });
      const clients = (answer.clients ?? []) as { client_id?: string }[];
      check(
        clients.some((client) => client.client_id === clientOf(state).id),
        'list-clients does not list the new client',
      );
    },
  },
  {
    name: 'admin invoke revoke-user-tokens revokes the user’s grants',
    needs: ['POST /oauth2/token', 'POST /oauth2/introspect'],
    skipUnless: (target) =>
      target.user.userId === undefined ? 'the user id is unknown (pass --user-id)' : undefined,
    async run(target, state) {
      const grant = await passwordGrant(target, state, target.user.username, target.user.password);
      check(grant.status === 200, `password grant answered ${describe(grant)}`);
      const answer = await admin(target, { action: 'revoke-user-tokens', user_id: target.user.userId });
      check(Number(answer.revoked_grants) >= 1, `revoke-user-tokens answered ${JSON.stringify(answer)}`);
      check(
        (await introspect(target, state, String(grant.json.access_token))).active === false,
        'a revoked user’s token is still active',
      );
    },
  },
  {
    name: 'admin invoke rotate-secret: the new secret works, the old one is refused at once',
    needs: ['POST /oauth2/token'],
    async run(target, state) {
      const client = clientOf(state);
      const answer = await admin(target, { action: 'rotate-secret', client_id: client.id });
      check(typeof answer.client_secret === 'string', `rotate-secret answered ${JSON.stringify(answer)}`);
      const rotated = { id: client.id, secret: answer.client_secret };
      state.client = rotated;
      const old = await call(target, 'POST', '/oauth2/token', {
        basic: client,
        form: { grant_type: 'client_credentials' },
      });
      check(old.status === 401 && old.json.error === 'invalid_client', `the old secret got ${describe(old)}`);
      const fresh = await call(target, 'POST', '/oauth2/token', {
        basic: rotated,
        form: { grant_type: 'client_credentials' },
      });
      check(fresh.status === 200, `the new secret got ${describe(fresh)}`);
    },
  },
  {
    name: 'admin invoke disable-client: the client is refused and its tokens die',
    needs: ['POST /oauth2/token'],
    async run(target, state) {
      const client = clientOf(state);
      const live = await call(target, 'POST', '/oauth2/token', {
        basic: client,
        form: { grant_type: 'client_credentials' },
      });
      check(live.status === 200, `client_credentials answered ${describe(live)}`);
      const answer = await admin(target, { action: 'disable-client', client_id: client.id });
      check(answer.disabled === true, `disable-client answered ${JSON.stringify(answer)}`);
      state.disabledClients.push(client.id);
      const refused = await call(target, 'POST', '/oauth2/token', {
        basic: client,
        form: { grant_type: 'client_credentials' },
      });
      check(
        refused.status === 401 && refused.json.error === 'invalid_client',
        `a disabled client got ${describe(refused)}`,
      );
    },
  },
];

/** Whether `route` (`GET /me`) is served by the API, counting `ANY` methods. */
export function servesRoute(routes: readonly string[], route: string): boolean {
  const [method, path] = route.split(' ');
  return (
    routes.includes(route) ||
    routes.includes(`ANY ${path}`) ||
    (method === 'ANY' && routes.some((candidate) => candidate.endsWith(` ${path}`)))
  );
}

export interface StepOutcome {
  readonly step: LifeCycleStep;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly detail: string;
}

/** Runs the steps in order; a failed step is reported and the next still runs (they need little from each other). */
export async function runLifeCycle(
  target: LifeCycleTarget,
  state: LifeCycleState,
  onStep: (outcome: StepOutcome) => void | Promise<void>,
  steps: readonly LifeCycleStep[] = LIFE_CYCLE_STEPS,
): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    const missing = (step.needs ?? []).filter((route) => !servesRoute(target.routes, route));
    const reason = missing.length > 0 ? `the API has no ${missing.join(', ')}` : step.skipUnless?.(target);
    let outcome: StepOutcome;
    if (reason !== undefined) {
      outcome = { step, status: 'skipped', detail: reason };
    } else {
      try {
        await step.run(target, state);
        outcome = { step, status: 'passed', detail: '' };
      } catch (error) {
        outcome = { step, status: 'failed', detail: error instanceof Error ? error.message : String(error) };
      }
    }
    outcomes.push(outcome);
    await onStep(outcome);
  }
  return outcomes;
}

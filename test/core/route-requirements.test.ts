import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_REQUIREMENTS_VARIABLE,
  checkRouteRequirements,
  DEFAULT_ROUTE_REQUIREMENTS,
  formatRouteRequirements,
  parseRouteRequirements,
  type RouteRequirements,
  RouteRequirementsError,
  requirementsFor,
  routeRequirementsVariable,
} from '../../lambdas/core/route-requirements';

/** API Gateway's stage variable rules (REST API quotas and the CreateStage API reference). */
const STAGE_VARIABLE_NAME = /^[A-Za-z0-9_]{1,64}$/;
const STAGE_VARIABLE_VALUE = /^[A-Za-z0-9\-._~:/?#&=,]{1,512}$/;

const element = fc.stringMatching(/^[A-Za-z0-9\-._~:/?#]{1,20}$/);
const requirementsArb: fc.Arbitrary<RouteRequirements> = fc.record(
  {
    scopes: fc.uniqueArray(element, { maxLength: 5 }),
    clientIds: fc.uniqueArray(element, { minLength: 1, maxLength: 3 }),
    audiences: fc.uniqueArray(element, { minLength: 1, maxLength: 3 }),
    allowClientTokens: fc.boolean(),
  },
  { requiredKeys: ['scopes', 'allowClientTokens'] },
);

describe('route requirements in stage variables', () => {
  it('round-trips any requirements through a value API Gateway accepts', () => {
    fc.assert(
      fc.property(requirementsArb, (requirements) => {
        const value = formatRouteRequirements(requirements);
        expect(value).toMatch(STAGE_VARIABLE_VALUE);
        expect(parseRouteRequirements(value)).toEqual(requirements);
      }),
    );
  });

  it('names a route’s variable within API Gateway’s name rules, distinct per method and path', () => {
    const names = new Set<string>();
    for (const [method, path] of [
      ['GET', '/orders'],
      ['POST', '/orders'],
      ['GET', '/orders/{id}'],
      ['GET', '/orders_id'],
      ['ANY', '/'],
      ['GET', `/${'very-long-segment/'.repeat(20)}{proxy+}`],
    ] as const) {
      const name = routeRequirementsVariable(method, path);
      expect(name).toMatch(STAGE_VARIABLE_NAME);
      names.add(name);
    }
    expect(names.size).toBe(6);
    expect(routeRequirementsVariable('get', '/orders')).toBe(routeRequirementsVariable('GET', '/orders'));
    expect(API_REQUIREMENTS_VARIABLE).toMatch(STAGE_VARIABLE_NAME);
  });

  it('refuses at format time what a stage variable cannot carry', () => {
    const base = { scopes: [], allowClientTokens: false };
    for (const bad of [
      { ...base, scopes: ['orders read'] },
      { ...base, scopes: ['a,b'] },
      { ...base, scopes: ['x&y'] },
      { ...base, scopes: ['über'] },
      { ...base, clientIds: [] },
      { ...base, audiences: ['https://a.example/?q=1&r=2'] },
      { ...base, scopes: Array.from({ length: 60 }, (_, i) => `scope-number-${i}`) },
    ]) {
      expect(() => formatRouteRequirements(bad)).toThrow(RouteRequirementsError);
    }
  });

  it('parses only what it wrote: any other string is a RouteRequirementsError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (value) => {
        try {
          const parsed = parseRouteRequirements(value);
          expect(parseRouteRequirements(formatRouteRequirements(parsed))).toEqual(parsed);
        } catch (error) {
          expect(error).toBeInstanceOf(RouteRequirementsError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the route’s own variable, then ANY, then the API-wide one, then the default', () => {
    const get = routeRequirementsVariable('GET', '/orders');
    const any = routeRequirementsVariable('ANY', '/orders');
    const vars = {
      [get]: 'tokens=any',
      [any]: 'tokens=user&scope=a',
      [API_REQUIREMENTS_VARIABLE]: 'tokens=user&scope=b',
    };
    expect(requirementsFor(vars, 'GET', '/orders')).toEqual({ scopes: [], allowClientTokens: true });
    expect(requirementsFor(vars, 'POST', '/orders').scopes).toEqual(['a']);
    expect(requirementsFor(vars, 'GET', '/other').scopes).toEqual(['b']);
    expect(requirementsFor(null, 'GET', '/orders')).toEqual(DEFAULT_ROUTE_REQUIREMENTS);
    expect(requirementsFor({}, 'GET', '/orders')).toEqual({ scopes: [], allowClientTokens: false });
  });
});

describe('checkRouteRequirements', () => {
  const user = { hasUser: true, clientId: 'web', scope: ['read', 'write'] };
  const machine = { hasUser: false, clientId: 'batch', scope: ['read'] };

  it('accepts user tokens only by default', () => {
    expect(checkRouteRequirements(user, DEFAULT_ROUTE_REQUIREMENTS)).toEqual({ allowed: true });
    expect(checkRouteRequirements(machine, DEFAULT_ROUTE_REQUIREMENTS)).toEqual({
      allowed: false,
      reason: 'user_required',
    });
    expect(checkRouteRequirements(machine, { scopes: [], allowClientTokens: true })).toEqual({
      allowed: true,
    });
  });

  it('needs every required scope and names the missing ones', () => {
    expect(checkRouteRequirements(user, { scopes: ['read', 'write'], allowClientTokens: false })).toEqual({
      allowed: true,
    });
    expect(
      checkRouteRequirements(user, { scopes: ['read', 'admin', 'x'], allowClientTokens: false }),
    ).toEqual({
      allowed: false,
      reason: 'insufficient_scope',
      missingScopes: ['admin', 'x'],
    });
  });

  it('checks clients, and audiences against the token’s own (none: refused)', () => {
    const base = { scopes: [], allowClientTokens: true };
    expect(checkRouteRequirements(user, { ...base, clientIds: ['web'] })).toEqual({ allowed: true });
    expect(checkRouteRequirements(machine, { ...base, clientIds: ['web'] })).toMatchObject({
      reason: 'client_not_accepted',
    });
    expect(
      checkRouteRequirements({ hasUser: true, scope: [] }, { ...base, clientIds: ['web'] }),
    ).toMatchObject({
      reason: 'client_not_accepted',
    });
    expect(checkRouteRequirements(user, { ...base, audiences: ['https://api'] })).toMatchObject({
      reason: 'audience_not_accepted',
    });
    expect(
      checkRouteRequirements(
        { ...user, audiences: ['https://other', 'https://api'] },
        { ...base, audiences: ['https://api'] },
      ),
    ).toEqual({ allowed: true });
    expect(
      checkRouteRequirements(
        { ...user, audiences: ['https://other'] },
        { ...base, audiences: ['https://api'] },
      ),
    ).toMatchObject({ reason: 'audience_not_accepted' });
  });
});

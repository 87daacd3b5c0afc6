import { describe, expect, it } from 'vitest';
import { evaluateAccess, type PolicyStatement, type RolePolicies, wildcardMatch } from './iam-policy';

const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Grants';

const statement = (overrides: Partial<PolicyStatement>): PolicyStatement => ({
  effect: 'Allow',
  actions: ['dynamodb:GetItem'],
  notActions: undefined,
  resources: [TABLE],
  notResources: undefined,
  condition: undefined,
  source: 'test',
  ...overrides,
});

const role = (...statements: PolicyStatement[]): RolePolicies => ({
  roleLogicalId: 'Role',
  statements,
  managedPolicyArns: [],
});

const getItem = (leadingKeys: string[], resource = TABLE) => ({
  action: 'dynamodb:GetItem',
  resource,
  context: { 'dynamodb:LeadingKeys': leadingKeys },
});

describe('the IAM check of recorded calls', () => {
  it('matches actions case-insensitively and resources with * and ?', () => {
    expect(wildcardMatch('dynamodb:Get*', 'DynamoDB:GetItem', true)).toBe(true);
    expect(wildcardMatch(`${TABLE}/index/*`, `${TABLE}/index/byUser`)).toBe(true);
    expect(wildcardMatch(`${TABLE}/index/*`, TABLE)).toBe(false);
    expect(
      wildcardMatch(
        'arn:aws:secretsmanager:*:*:secret:Hook-??????',
        'arn:aws:secretsmanager:eu-west-1:1:secret:Hook-AbCdEf',
      ),
    ).toBe(true);
    expect(evaluateAccess(role(statement({})), getItem([], `${TABLE}/index/byUser`)).allowed).toBe(false);
  });

  it('honours dynamodb:LeadingKeys: only items whose partition key the condition allows', () => {
    const policies = role(
      statement({ condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['lockout#*'] } } }),
    );
    expect(evaluateAccess(policies, getItem(['lockout#abc'])).allowed).toBe(true);
    expect(evaluateAccess(policies, getItem(['grant-1'])).allowed).toBe(false);
    expect(evaluateAccess(policies, getItem(['grant-1'])).unevaluatedKeys).toEqual([]);
  });

  it('an explicit Deny wins over any Allow', () => {
    const policies = role(statement({}), statement({ effect: 'Deny', actions: ['dynamodb:*'] }));
    const decision = evaluateAccess(policies, getItem([]));
    expect(decision.allowed).toBe(false);
    expect(decision.deniedBy?.effect).toBe('Deny');
  });

  it('reports condition keys it cannot evaluate instead of pretending', () => {
    const policies = role(statement({ condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } }));
    const decision = evaluateAccess(policies, getItem([]));
    expect(decision.allowed).toBe(true);
    expect(decision.unevaluatedKeys).toEqual(['aws:SourceVpce']);
  });

  it('NotAction allows everything but the named actions', () => {
    const policies = role(statement({ actions: [], notActions: ['dynamodb:DeleteItem'], resources: ['*'] }));
    expect(evaluateAccess(policies, getItem([])).allowed).toBe(true);
    expect(
      evaluateAccess(policies, { action: 'dynamodb:DeleteItem', resource: TABLE, context: {} }).allowed,
    ).toBe(false);
  });
});

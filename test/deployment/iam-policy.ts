import { asList, isRecord, type TemplateResolver } from './cfn-template';

/** One statement of a role's identity policies, resources resolved to emulated ARNs. */
export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly notActions: readonly string[] | undefined;
  readonly resources: readonly string[];
  readonly notResources: readonly string[] | undefined;
  readonly condition: Record<string, Record<string, unknown>> | undefined;
  /** Which template resource it came from. */
  readonly source: string;
}

export interface RolePolicies {
  readonly roleLogicalId: string;
  readonly statements: readonly PolicyStatement[];
  /** Managed policies by ARN: their documents are not in the template, so they cannot be evaluated. */
  readonly managedPolicyArns: readonly string[];
}

/** One AWS API call a function made, as the emulated endpoint saw it. */
export interface RequestedAccess {
  readonly action: string;
  readonly resource: string;
  /** Condition keys this request carries (`dynamodb:LeadingKeys`, `aws:RequestedRegion` …). */
  readonly context: Readonly<Record<string, readonly string[]>>;
}

export interface IamDecision {
  readonly allowed: boolean;
  readonly allowedBy: PolicyStatement | undefined;
  readonly deniedBy: PolicyStatement | undefined;
  /** Condition keys a matching statement used that this emulation cannot evaluate (assumed to hold). */
  readonly unevaluatedKeys: readonly string[];
}

const strings = (value: unknown): string[] => asList(value).map(String);

/** Every statement attached to the role: `AWS::IAM::Policy`/`ManagedPolicy` resources naming it, and its inline policies. */
export function rolePolicies(resolver: TemplateResolver, roleLogicalId: string): RolePolicies {
  const statements: PolicyStatement[] = [];
  const add = (document: unknown, source: string): void => {
    const resolved = resolver.resolve(document);
    if (!isRecord(resolved)) return;
    for (const statement of asList(resolved.Statement)) {
      if (!isRecord(statement)) continue;
      statements.push({
        effect: statement.Effect === 'Deny' ? 'Deny' : 'Allow',
        actions: strings(statement.Action),
        notActions: statement.NotAction === undefined ? undefined : strings(statement.NotAction),
        resources: strings(statement.Resource),
        notResources: statement.NotResource === undefined ? undefined : strings(statement.NotResource),
        condition: isRecord(statement.Condition)
          ? (statement.Condition as Record<string, Record<string, unknown>>)
          : undefined,
        source,
      });
    }
  };
  const namesRole = (roles: unknown): boolean =>
    asList(roles).some((role) => isRecord(role) && role.Ref === roleLogicalId);
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, resource] of resolver.resourcesOfType(type)) {
      if (namesRole(resource.Properties?.Roles)) add(resource.Properties?.PolicyDocument, id);
    }
  }
  const role = resolver.resource(roleLogicalId).Properties ?? {};
  for (const inline of asList(role.Policies)) {
    if (isRecord(inline)) add(inline.PolicyDocument, `${roleLogicalId} inline ${String(inline.PolicyName)}`);
  }
  const managedPolicyArns = asList(role.ManagedPolicyArns).map((arn) => {
    try {
      return String(resolver.resolve(arn));
    } catch {
      return JSON.stringify(arn);
    }
  });
  return { roleLogicalId, statements, managedPolicyArns };
}

/** IAM's wildcard matching: `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's').test(value);
}

const actionMatches = (patterns: readonly string[], action: string): boolean =>
  patterns.some((pattern) => wildcardMatch(pattern, action, true));
const resourceMatches = (patterns: readonly string[], resource: string): boolean =>
  patterns.some((pattern) => wildcardMatch(pattern, resource));

/**
 * Condition operators this emulation evaluates, with `ForAllValues:`/`ForAnyValue:` and `IfExists`.
 * Returns undefined when the operator is unknown.
 */
function compare(operator: string, actual: string, expected: string): boolean | undefined {
  switch (operator) {
    case 'StringEquals':
    case 'ArnEquals':
      return actual === expected;
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return actual !== expected;
    case 'StringEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'StringNotEqualsIgnoreCase':
      return actual.toLowerCase() !== expected.toLowerCase();
    case 'StringLike':
    case 'ArnLike':
      return wildcardMatch(expected, actual);
    case 'StringNotLike':
    case 'ArnNotLike':
      return !wildcardMatch(expected, actual);
    case 'Bool':
      return actual.toLowerCase() === expected.toLowerCase();
    default:
      return undefined;
  }
}

/** Whether a statement's Condition block holds; keys or operators it cannot evaluate are reported and assumed to hold. */
function conditionHolds(
  condition: Record<string, Record<string, unknown>> | undefined,
  context: Readonly<Record<string, readonly string[]>>,
  unevaluated: Set<string>,
): boolean {
  if (condition === undefined) return true;
  for (const [rawOperator, block] of Object.entries(condition)) {
    const setMode = rawOperator.startsWith('ForAllValues:')
      ? 'all'
      : rawOperator.startsWith('ForAnyValue:')
        ? 'any'
        : 'single';
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = rawOperator.replace(/^For(All|Any)Values?:/, '').replace(/IfExists$/, '');
    for (const [key, expectedRaw] of Object.entries(block)) {
      const expected = strings(expectedRaw);
      const actual = context[key] ?? context[key.toLowerCase()];
      if (compare(operator, '', '') === undefined) {
        unevaluated.add(`${rawOperator} ${key}`);
        continue;
      }
      if (actual === undefined) {
        // A key the request does not carry: we only know that for the keys we model.
        if (!KNOWN_CONDITION_KEYS.has(key.toLowerCase())) {
          unevaluated.add(key);
          continue;
        }
        if (ifExists || setMode === 'all') continue;
        return false;
      }
      const one = (value: string) => expected.some((item) => compare(operator, value, item) === true);
      const holds =
        setMode === 'all' ? actual.every(one) : setMode === 'any' ? actual.some(one) : actual.some(one);
      if (!holds) return false;
    }
  }
  return true;
}

/** Condition keys the emulation fills in for every call it records. */
export const KNOWN_CONDITION_KEYS = new Set(
  [
    'dynamodb:LeadingKeys',
    'dynamodb:ReturnValues',
    'dynamodb:Select',
    'dynamodb:ConsistentRead',
    'aws:RequestedRegion',
    'aws:SecureTransport',
    'aws:PrincipalArn',
    'aws:PrincipalAccount',
    'secretsmanager:SecretId',
    'secretsmanager:VersionStage',
    'lambda:FunctionArn',
  ].map((key) => key.toLowerCase()),
);

/** IAM's evaluation for one principal's identity policies: an explicit Deny wins, else any Allow, else implicit deny. */
export function evaluateAccess(policies: RolePolicies, request: RequestedAccess): IamDecision {
  const unevaluated = new Set<string>();
  const context: Record<string, readonly string[]> = {};
  for (const [key, value] of Object.entries(request.context)) context[key.toLowerCase()] = value;
  const applies = (statement: PolicyStatement): boolean => {
    const actionOk =
      statement.notActions === undefined
        ? actionMatches(statement.actions, request.action)
        : !actionMatches(statement.notActions, request.action);
    const resourceOk =
      statement.notResources === undefined
        ? resourceMatches(statement.resources, request.resource)
        : !resourceMatches(statement.notResources, request.resource);
    return actionOk && resourceOk && conditionHolds(statement.condition, context, unevaluated);
  };
  const deniedBy = policies.statements.find((statement) => statement.effect === 'Deny' && applies(statement));
  const allowedBy =
    deniedBy === undefined
      ? policies.statements.find((statement) => statement.effect === 'Allow' && applies(statement))
      : undefined;
  return { allowed: allowedBy !== undefined, allowedBy, deniedBy, unevaluatedKeys: [...unevaluated] };
}

/** Every (action, resource) pair an Allow grants, for the least-privilege report. Wildcard actions stay as written. */
export function grantedPairs(
  policies: RolePolicies,
): { action: string; resource: string; statement: PolicyStatement }[] {
  return policies.statements
    .filter((statement) => statement.effect === 'Allow' && statement.notActions === undefined)
    .flatMap((statement) =>
      statement.actions.flatMap((action) =>
        (statement.notResources === undefined ? statement.resources : ['*']).map((resource) => ({
          action,
          resource,
          statement,
        })),
      ),
    );
}

/** Whether a granted (action, resource) pair covers a recorded call. */
export const pairCovers = (
  grant: { action: string; resource: string },
  call: { action: string; resource: string },
) => wildcardMatch(grant.action, call.action, true) && wildcardMatch(grant.resource, call.resource);

import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

/** One resource of a synthesised template, as far as these tests read it. */
export interface ResourceJson {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface StatementJson {
  readonly Effect?: string;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
  readonly Principal?: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export function resourcesOf(template: Template, type: string): Record<string, ResourceJson> {
  const found = template.findResources(type) as Record<string, Partial<ResourceJson>>;
  return Object.fromEntries(
    Object.entries(found).map(([id, resource]) => [
      id,
      { ...resource, Type: type, Properties: resource.Properties ?? {} } as ResourceJson,
    ]),
  );
}

/** Logical id of an L1 element, or of an L2 construct's default child (its CloudFormation resource). */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  // `logicalId` honours overrideLogicalId (the stable output names); getLogicalId would not.
  return Stack.of(construct).resolve(element.logicalId) as string;
}

export function resourceOf(template: Template, construct: IConstruct): ResourceJson {
  const id = logicalIdOf(construct);
  const resource = (template.toJSON().Resources as Record<string, ResourceJson> | undefined)?.[id];
  if (resource === undefined) throw new Error(`no resource ${id} (${construct.node.path}) in the template`);
  return { ...resource, Properties: resource.Properties ?? {} };
}

export const propertiesOf = (template: Template, construct: IConstruct): Record<string, unknown> =>
  resourceOf(template, construct).Properties;

/** Environment variables of a function construct (an L2 `Function`/`NodejsFunction`). */
export function environmentOf(template: Template, fn: IConstruct): Record<string, unknown> {
  const environment = propertiesOf(template, fn).Environment;
  if (!isRecord(environment) || !isRecord(environment.Variables)) return {};
  return environment.Variables;
}

/**
 * Every policy statement anywhere in the template (IAM policies, inline and trust policies of roles,
 * managed policies, resource policies such as the RestApi's), with where it was found.
 */
export function allStatements(
  template: Template,
): { readonly at: string; readonly statement: StatementJson }[] {
  const found: { at: string; statement: StatementJson }[] = [];
  const visit = (value: unknown, at: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        visit(item, `${at}[${index}]`);
      });
      return;
    }
    if (!isRecord(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'Statement' && Array.isArray(child)) {
        child.forEach((statement, index) => {
          if (isRecord(statement)) found.push({ at: `${at}.Statement[${index}]`, statement });
        });
      } else {
        visit(child, `${at}.${key}`);
      }
    }
  };
  const resources = (template.toJSON().Resources ?? {}) as Record<string, unknown>;
  for (const [id, resource] of Object.entries(resources)) visit(resource, id);
  return found;
}

export const actionsOf = (statement: StatementJson): string[] =>
  asList(statement.Action).map((action) => String(action));

/**
 * A role's effective permissions as sorted `Effect action resource` lines: statements from the
 * `AWS::IAM::Policy` resources attached to it and its inline policies, one line per action and
 * resource. Independent of how CDK merges statements (`@aws-cdk/aws-iam:minimizePolicies`).
 */
export function permissionsOfRole(template: Template, role: IConstruct): string[] {
  const roleId = logicalIdOf(role);
  const statements: StatementJson[] = [];
  for (const policy of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const roles = asList(policy.Properties.Roles);
    if (!roles.some((ref) => isRecord(ref) && ref.Ref === roleId)) continue;
    const document = policy.Properties.PolicyDocument;
    if (isRecord(document)) statements.push(...(asList(document.Statement) as StatementJson[]));
  }
  for (const inline of asList(resourceOf(template, role).Properties.Policies)) {
    if (isRecord(inline) && isRecord(inline.PolicyDocument)) {
      statements.push(...(asList(inline.PolicyDocument.Statement) as StatementJson[]));
    }
  }
  return statements
    .flatMap((statement) => {
      if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
        return [`UNEXPECTED NotAction/NotResource ${JSON.stringify(statement)}`];
      }
      const condition = statement.Condition === undefined ? '' : ` if ${JSON.stringify(statement.Condition)}`;
      return actionsOf(statement).flatMap((action) =>
        asList(statement.Resource).map(
          (resource) => `${statement.Effect} ${action} ${JSON.stringify(resource)}${condition}`,
        ),
      );
    })
    .sort();
}

/** The lines `permissionsOfRole` must return: `[actions, resources]` pairs, resources as CDK tokens. */
export function allowLines(stack: Stack, grants: readonly (readonly [string[], unknown[]])[]): string[] {
  return grants
    .flatMap(([actions, resources]) =>
      actions.flatMap((action) =>
        resources.map((resource) => `Allow ${action} ${JSON.stringify(stack.resolve(resource))}`),
      ),
    )
    .sort();
}

/** Path of an `AWS::ApiGateway::Resource` reference (`/oauth2/token`), following `ParentId` to the root. */
function pathResolver(template: Template): (resourceId: unknown) => string {
  const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
  const pathOf = (resourceId: unknown): string => {
    const resource =
      isRecord(resourceId) && typeof resourceId.Ref === 'string' ? resources[resourceId.Ref] : undefined;
    // Anything else is `Fn::GetAtt [api, RootResourceId]`.
    if (resource === undefined) return '';
    return `${pathOf(resource.Properties.ParentId)}/${String(resource.Properties.PathPart)}`;
  };
  return (resourceId) => pathOf(resourceId) || '/';
}

/** `GET /me`-style lines for every method of the REST API(s) in the template. */
export function routesOf(template: Template): string[] {
  const pathOf = pathResolver(template);
  return Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
    .map(({ Properties }) => `${String(Properties.HttpMethod)} ${pathOf(Properties.ResourceId)}`)
    .sort();
}

/** Properties of the one method `httpMethod path` (e.g. `ANY`, `/oauth2/token`). */
export function methodAt(template: Template, httpMethod: string, path: string): Record<string, unknown> {
  const pathOf = pathResolver(template);
  const matches = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).filter(
    ({ Properties }) => Properties.HttpMethod === httpMethod && pathOf(Properties.ResourceId) === path,
  );
  if (matches.length !== 1 || matches[0] === undefined) {
    throw new Error(`expected one method ${httpMethod} ${path}, found ${matches.length}`);
  }
  return matches[0].Properties;
}

/** The one output whose construct is `id` under `scope` (e.g. the service's `TokenUrl`). */
export function outputOf(template: Template, scope: IConstruct, id: string): Record<string, unknown> {
  const logicalId = logicalIdOf(scope.node.findChild(id));
  const output = (template.toJSON().Outputs as Record<string, Record<string, unknown>> | undefined)?.[
    logicalId
  ];
  if (output === undefined) throw new Error(`no output ${logicalId}`);
  return output;
}

/** The service's own authorizer, which exists only with the demo route. */
export function authorizerOf(service: { authorizer?: IConstruct }): IConstruct {
  if (service.authorizer === undefined)
    throw new Error('this configuration has no demo route, so no authorizer');
  return service.authorizer;
}

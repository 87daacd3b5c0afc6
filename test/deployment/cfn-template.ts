import { createHash } from 'node:crypto';

/** A synthesised CloudFormation template, as far as the verification reads it. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { readonly Default?: unknown; readonly Type?: string }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
}

/** Where the emulated stack lives: the fixed account and region of the synth. */
export interface StackLocation {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
}

export class UnresolvableError extends Error {
  override name = 'UnresolvableError';
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Marks `AWS::NoValue`: the property is dropped, as CloudFormation does. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If`,
 * `Fn::FindInMap` and pseudo parameters to the values the emulated resources have. Physical names
 * follow CloudFormation's shape (`<stack>-<logical id>-<suffix>`) unless the template names the
 * resource itself, so a function sees exactly the name its table, secret or parameter has here.
 * Anything it cannot resolve (an import from another stack, an unknown attribute) throws
 * `UnresolvableError` naming the expression.
 */
export class TemplateResolver {
  constructor(
    readonly template: CfnTemplate,
    readonly location: StackLocation,
  ) {}

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new UnresolvableError(`no resource ${logicalId} in the template`);
    return resource;
  }

  resourcesOfType(type: string): [string, CfnResource][] {
    return Object.entries(this.template.Resources).filter(([, resource]) => resource.Type === type);
  }

  /** A short deterministic suffix, like the one CloudFormation appends to generated names. */
  private suffix(logicalId: string, length = 12): string {
    return createHash('sha256')
      .update(`${this.location.stackName}/${logicalId}`)
      .digest('hex')
      .slice(0, length)
      .toUpperCase();
  }

  private generatedName(logicalId: string, max = 64): string {
    const base = `${this.location.stackName}-${logicalId}`.slice(0, max - 13);
    return `${base}-${this.suffix(logicalId)}`;
  }

  private arn(service: string, resource: string, options: { region?: boolean } = {}): string {
    const region = options.region === false ? '' : this.location.region;
    return `arn:aws:${service}:${region}:${this.location.account}:${resource}`;
  }

  /** What `Ref` returns for this resource (its physical id). */
  ref(logicalId: string): string {
    if (logicalId.startsWith('AWS::')) return this.pseudo(logicalId);
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter !== undefined) {
      if (parameter.Default === undefined)
        throw new UnresolvableError(`parameter ${logicalId} has no default`);
      return String(parameter.Default);
    }
    const resource = this.resource(logicalId);
    const props = resource.Properties ?? {};
    const named = (key: string): string | undefined =>
      props[key] === undefined ? undefined : this.resolveString(props[key], `${logicalId}.${key}`);
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return named('TableName') ?? this.generatedName(logicalId, 255);
      case 'AWS::SecretsManager::Secret':
        return this.arn(
          'secretsmanager',
          `secret:${this.secretName(logicalId)}-${this.suffix(logicalId, 6)}`,
        );
      case 'AWS::Lambda::Function':
        return named('FunctionName') ?? this.generatedName(logicalId);
      case 'AWS::IAM::Role':
        return named('RoleName') ?? this.generatedName(logicalId);
      case 'AWS::Logs::LogGroup':
        return named('LogGroupName') ?? this.generatedName(logicalId, 512);
      case 'AWS::SSM::Parameter':
        return named('Name') ?? `CFN-${this.generatedName(logicalId)}`;
      case 'AWS::KMS::Key':
        return this.uuid(logicalId);
      case 'AWS::ApiGateway::RestApi':
        return this.suffix(logicalId, 10).toLowerCase();
      default:
        return this.generatedName(logicalId);
    }
  }

  secretName(logicalId: string): string {
    const name = this.resource(logicalId).Properties?.Name;
    return name === undefined
      ? `${logicalId}-${this.suffix(logicalId)}`
      : this.resolveString(name, logicalId);
  }

  private uuid(logicalId: string): string {
    const hex = createHash('sha256').update(logicalId).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  /** What `Fn::GetAtt [logicalId, attribute]` returns. */
  attribute(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const name = this.ref(logicalId);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
        return this.arn('dynamodb', `table/${name}`);
      case 'AWS::DynamoDB::Table.StreamArn':
        return this.arn('dynamodb', `table/${name}/stream/1970-01-01T00:00:00.000`);
      case 'AWS::SecretsManager::Secret.Id':
        return name;
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${name}`);
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${this.location.account}:role/${name}`;
      case 'AWS::IAM::Role.RoleId':
        return `AROA${this.suffix(logicalId, 17)}`;
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${name}:*`);
      case 'AWS::SSM::Parameter.Value':
        return this.resolveString(resource.Properties?.Value, `${logicalId}.Value`);
      case 'AWS::SSM::Parameter.Type':
        return String(resource.Properties?.Type ?? 'String');
      case 'AWS::KMS::Key.Arn':
        return this.arn('kms', `key/${name}`);
      case 'AWS::KMS::Key.KeyId':
        return name;
      case 'AWS::ApiGateway::RestApi.RootResourceId':
        return `${name}-root`;
      case 'AWS::ApiGateway::DomainName.RegionalDomainName':
        return `d-${this.suffix(logicalId, 10).toLowerCase()}.execute-api.${this.location.region}.amazonaws.com`;
      case 'AWS::ApiGateway::DomainName.RegionalHostedZoneId':
        return 'ZEMULATED';
      default:
        if (attribute === 'Arn') {
          // Generic: arn:aws:<service>:<region>:<account>:<type>/<name>, e.g. a WAF ACL or a queue.
          const [, service = 'unknown', type = 'resource'] = resource.Type.split('::');
          return this.arn(service.toLowerCase(), `${type.toLowerCase()}/${name}`);
        }
        throw new UnresolvableError(
          `Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) is not emulated`,
        );
    }
  }

  private pseudo(name: string): string {
    switch (name) {
      case 'AWS::Region':
        return this.location.region;
      case 'AWS::AccountId':
        return this.location.account;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.location.stackName;
      case 'AWS::StackId':
        return this.arn(
          'cloudformation',
          `stack/${this.location.stackName}/${this.uuid(this.location.stackName)}`,
        );
      default:
        throw new UnresolvableError(`pseudo parameter ${name} is not emulated`);
    }
  }

  private condition(name: string): boolean {
    const expression = this.template.Conditions?.[name];
    if (expression === undefined) throw new UnresolvableError(`no condition ${name}`);
    return this.evaluateCondition(expression);
  }

  private evaluateCondition(expression: unknown): boolean {
    if (!isRecord(expression)) return Boolean(expression);
    const [fn, args] = Object.entries(expression)[0] ?? [];
    const list = asList(args);
    switch (fn) {
      case 'Condition':
        return this.condition(String(args));
      case 'Fn::Equals':
        return JSON.stringify(this.resolve(list[0])) === JSON.stringify(this.resolve(list[1]));
      case 'Fn::Not':
        return !this.evaluateCondition(list[0]);
      case 'Fn::And':
        return list.every((item) => this.evaluateCondition(item));
      case 'Fn::Or':
        return list.some((item) => this.evaluateCondition(item));
      default:
        throw new UnresolvableError(`condition ${JSON.stringify(expression)} is not emulated`);
    }
  }

  /** Deep resolution of every intrinsic in `value`. */
  resolve(value: unknown): unknown {
    const resolved = this.resolveInner(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  resolveString(value: unknown, where: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new UnresolvableError(`${where}: ${JSON.stringify(value)} does not resolve to a string`);
  }

  private resolveInner(value: unknown): unknown {
    if (Array.isArray(value))
      return value.map((item) => this.resolveInner(item)).filter((item) => item !== NO_VALUE);
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0] as string;
      const args = value[key];
      switch (key) {
        case 'Ref':
          return args === 'AWS::NoValue' ? NO_VALUE : this.ref(String(args));
        case 'Fn::GetAtt': {
          const [id, ...attribute] = Array.isArray(args) ? args.map(String) : String(args).split('.');
          return this.attribute(String(id), attribute.join('.'));
        }
        case 'Fn::Join': {
          const [separator, parts] = args as [string, unknown[]];
          return asList(this.resolveInner(parts)).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = args as [unknown, unknown];
          const items = asList(this.resolveInner(list));
          const at = Number(this.resolveInner(index));
          if (!(at in items)) throw new UnresolvableError(`Fn::Select index ${at} out of range`);
          return items[at];
        }
        case 'Fn::Split': {
          const [separator, source] = args as [string, unknown];
          return String(this.resolveInner(source)).split(separator);
        }
        case 'Fn::Sub':
          return this.sub(args);
        case 'Fn::If': {
          const [condition, whenTrue, whenFalse] = args as [string, unknown, unknown];
          return this.resolveInner(this.condition(condition) ? whenTrue : whenFalse);
        }
        case 'Fn::FindInMap': {
          const [map, top, second] = asList(args).map((item) => String(this.resolveInner(item)));
          const found = this.template.Mappings?.[map as string]?.[top as string]?.[second as string];
          if (found === undefined) throw new UnresolvableError(`Fn::FindInMap ${map}.${top}.${second}`);
          return found;
        }
        case 'Fn::Base64':
          return Buffer.from(String(this.resolveInner(args))).toString('base64');
        case 'Fn::ImportValue':
          throw new UnresolvableError(`Fn::ImportValue ${JSON.stringify(args)}: another stack's export`);
        default:
          if (key.startsWith('Fn::')) throw new UnresolvableError(`${key} is not emulated`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const resolved = this.resolveInner(child);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private sub(args: unknown): string {
    const [text, variables] = Array.isArray(args)
      ? (args as [string, Record<string, unknown>])
      : [String(args), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (Object.hasOwn(variables, name)) return String(this.resolveInner(variables[name]));
      const [id, ...attribute] = name.split('.');
      return attribute.length === 0
        ? this.ref(id as string)
        : this.attribute(id as string, attribute.join('.'));
    });
  }
}

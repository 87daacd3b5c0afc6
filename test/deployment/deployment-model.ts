import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asList, type CfnTemplate, isRecord, type StackLocation, TemplateResolver } from './cfn-template';

/** Everything the verification reads from a cloud assembly (`cdk.out`), resolved against the emulation. */
export interface DeploymentModel {
  readonly assemblyDir: string;
  readonly location: StackLocation;
  readonly template: CfnTemplate;
  readonly resolver: TemplateResolver;
  readonly tables: readonly TableModel[];
  readonly functions: readonly FunctionModel[];
  readonly secrets: readonly SecretModel[];
  readonly parameters: readonly ParameterModel[];
  readonly routes: readonly RouteModel[];
  readonly gatewayResponses: Readonly<Record<string, GatewayResponseModel>>;
  readonly api: ApiModel | undefined;
  readonly outputs: Readonly<Record<string, unknown>>;
}

export interface TableModel {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The template's own properties, intrinsics resolved: KeySchema, AttributeDefinitions, GSIs, TTL … */
  readonly properties: Record<string, unknown>;
  readonly hashKey: string;
}

export interface FunctionModel {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** `Environment.Variables` as written in the template (intrinsics unresolved). */
  readonly environment: Readonly<Record<string, unknown>>;
  /** Absolute path of the asset directory that `cdk deploy` zips and uploads. */
  readonly assetDir: string | undefined;
  readonly roleLogicalId: string | undefined;
}

export interface SecretModel {
  readonly logicalId: string;
  readonly arn: string;
  readonly name: string;
  readonly properties: Record<string, unknown>;
}

export interface ParameterModel {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly value: string;
  readonly type: string;
}

export interface AuthorizerModel {
  readonly logicalId: string;
  readonly type: string;
  readonly functionLogicalId: string | undefined;
  /** `method.request.header.Authorization` … */
  readonly identitySources: readonly string[];
  readonly resultTtlSeconds: number;
}

export interface RouteModel {
  readonly logicalId: string;
  /** `GET`, `POST`, … or `ANY`. */
  readonly method: string;
  /** The resource path, `{param}` segments as written (`/oauth2/token`). */
  readonly path: string;
  readonly authorizationType: string;
  readonly authorizer: AuthorizerModel | undefined;
  readonly integrationType: string;
  readonly functionLogicalId: string | undefined;
}

export interface GatewayResponseModel {
  readonly statusCode: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

export interface ApiModel {
  readonly logicalId: string;
  readonly id: string;
  readonly stageName: string;
  /** The stage's `Variables` (API Gateway hands them to the authorizer and the integrations). */
  readonly stageVariables: Readonly<Record<string, string>> | null;
  /** The custom domain when the template has one (then URLs carry no stage prefix). */
  readonly customDomain: string | undefined;
  readonly host: string;
}

const refOf = (value: unknown): string | undefined =>
  isRecord(value) && typeof value.Ref === 'string' ? value.Ref : undefined;

const getAttOf = (value: unknown): [string, string] | undefined => {
  if (!isRecord(value) || value['Fn::GetAtt'] === undefined) return undefined;
  const args = value['Fn::GetAtt'];
  const [id, attribute] = Array.isArray(args) ? args.map(String) : String(args).split('.');
  return id === undefined || attribute === undefined ? undefined : [id, attribute];
};

/** Every logical id a `Fn::GetAtt <id>.Arn` inside `value` points at (integration and authorizer URIs). */
function functionsReferenced(value: unknown, functions: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    const att = getAttOf(node);
    if (att !== undefined && functions.has(att[0])) found.add(att[0]);
    const ref = refOf(node);
    if (ref !== undefined && functions.has(ref)) found.add(ref);
    if (Array.isArray(node)) node.forEach(visit);
    else if (isRecord(node)) Object.values(node).forEach(visit);
  };
  visit(value);
  return [...found];
}

/** The stack template of a cloud assembly: the only `aws:cloudformation:stack` artifact, or `stackName`. */
export function readAssembly(
  assemblyDir: string,
  stackName?: string,
): {
  template: CfnTemplate;
  stackName: string;
  account: string;
  region: string;
  assetsFile: string | undefined;
} {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<
      string,
      {
        type: string;
        environment?: string;
        properties?: Record<string, unknown>;
        dependencies?: string[];
        displayName?: string;
      }
    >;
  };
  const stacks = Object.entries(manifest.artifacts).filter(
    ([name, artifact]) =>
      artifact.type === 'aws:cloudformation:stack' && (stackName === undefined || name === stackName),
  );
  if (stacks.length !== 1 || stacks[0] === undefined) {
    throw new Error(
      `expected one stack${stackName === undefined ? '' : ` named ${stackName}`} in ${assemblyDir}, found ${stacks.length}`,
    );
  }
  const [name, artifact] = stacks[0];
  const [, , account = '', region = ''] = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '') ?? [];
  const assetsArtifact = (artifact.dependencies ?? [])
    .map((dependency) => manifest.artifacts[dependency])
    .find((dependency) => dependency?.type === 'cdk:asset-manifest');
  return {
    template: JSON.parse(readFileSync(join(assemblyDir, String(artifact.properties?.templateFile)), 'utf8')),
    stackName: name,
    account: /^\d{12}$/.test(account) ? account : '123456789012',
    region: /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? region : 'eu-west-1',
    assetsFile:
      assetsArtifact === undefined ? undefined : join(assemblyDir, String(assetsArtifact.properties?.file)),
  };
}

export function loadDeploymentModel(assemblyDir: string, stackName?: string): DeploymentModel {
  const assembly = readAssembly(assemblyDir, stackName);
  const location: StackLocation = {
    stackName: assembly.stackName,
    account: assembly.account,
    region: assembly.region,
  };
  // S3 object key -> asset directory, as `cdk deploy` publishes it (the asset manifest).
  const assetByKey = new Map<string, string>();
  if (assembly.assetsFile !== undefined && existsSync(assembly.assetsFile)) {
    const assets = JSON.parse(readFileSync(assembly.assetsFile, 'utf8')) as {
      files?: Record<
        string,
        { source: { path?: string }; destinations: Record<string, { objectKey: string }> }
      >;
    };
    for (const file of Object.values(assets.files ?? {})) {
      for (const destination of Object.values(file.destinations)) {
        if (file.source.path !== undefined)
          assetByKey.set(destination.objectKey, join(assemblyDir, file.source.path));
      }
    }
  }

  return buildDeploymentModel(assembly.template, location, assemblyDir, assetByKey);
}

/** The model of a template alone (e.g. a deployed stack's, from CloudFormation GetTemplate): no assets. */
export function buildDeploymentModel(
  template: CfnTemplate,
  location: StackLocation,
  assemblyDir = '',
  assetByKey: ReadonlyMap<string, string> = new Map(),
): DeploymentModel {
  const resolver = new TemplateResolver(template, location);

  const tables = resolver.resourcesOfType('AWS::DynamoDB::Table').map(([logicalId, resource]): TableModel => {
    const properties = resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    const hash = asList(properties.KeySchema).find((key) => isRecord(key) && key.KeyType === 'HASH');
    return {
      logicalId,
      name: resolver.ref(logicalId),
      arn: resolver.attribute(logicalId, 'Arn'),
      properties,
      hashKey: isRecord(hash) ? String(hash.AttributeName) : '',
    };
  });

  const functions = resolver
    .resourcesOfType('AWS::Lambda::Function')
    .map(([logicalId, resource]): FunctionModel => {
      const props = resource.Properties ?? {};
      const code = isRecord(props.Code) ? props.Code : {};
      const key = typeof code.S3Key === 'string' ? code.S3Key : undefined;
      const environment =
        isRecord(props.Environment) && isRecord(props.Environment.Variables)
          ? props.Environment.Variables
          : {};
      return {
        logicalId,
        name: resolver.ref(logicalId),
        arn: resolver.attribute(logicalId, 'Arn'),
        handler: String(props.Handler ?? ''),
        runtime: String(props.Runtime ?? ''),
        // CloudFormation's defaults when the template leaves them out.
        timeoutSeconds: Number(props.Timeout ?? 3),
        memoryMb: Number(props.MemorySize ?? 128),
        environment,
        assetDir: key === undefined ? undefined : assetByKey.get(key),
        roleLogicalId: getAttOf(props.Role)?.[0],
      };
    });
  const functionIds = new Set(functions.map((fn) => fn.logicalId));

  const secrets = resolver.resourcesOfType('AWS::SecretsManager::Secret').map(([logicalId, resource]) => ({
    logicalId,
    arn: resolver.ref(logicalId),
    name: resolver.secretName(logicalId),
    properties: resource.Properties ?? {},
  }));

  const parameters = resolver.resourcesOfType('AWS::SSM::Parameter').map(([logicalId]) => {
    const name = resolver.ref(logicalId);
    return {
      logicalId,
      name,
      arn: `arn:aws:ssm:${location.region}:${location.account}:parameter/${name.replace(/^\//, '')}`,
      value: resolver.attribute(logicalId, 'Value'),
      type: resolver.attribute(logicalId, 'Type'),
    };
  });

  const authorizers = new Map(
    resolver
      .resourcesOfType('AWS::ApiGateway::Authorizer')
      .map(([logicalId, resource]): [string, AuthorizerModel] => {
        const props = resource.Properties ?? {};
        return [
          logicalId,
          {
            logicalId,
            type: String(props.Type ?? 'TOKEN'),
            functionLogicalId: functionsReferenced(props.AuthorizerUri, functionIds)[0],
            identitySources: String(props.IdentitySource ?? '')
              .split(',')
              .map((source) => source.trim())
              .filter((source) => source !== ''),
            resultTtlSeconds: Number(props.AuthorizerResultTtlInSeconds ?? 300),
          },
        ];
      }),
  );

  const apiResources = new Map(resolver.resourcesOfType('AWS::ApiGateway::Resource'));
  const pathOf = (resourceId: unknown): string => {
    const id = refOf(resourceId);
    const resource = id === undefined ? undefined : apiResources.get(id);
    // Anything else is `Fn::GetAtt [api, RootResourceId]`.
    if (resource === undefined) return '';
    return `${pathOf(resource.Properties?.ParentId)}/${String(resource.Properties?.PathPart)}`;
  };
  const routes = resolver
    .resourcesOfType('AWS::ApiGateway::Method')
    .map(([logicalId, resource]): RouteModel => {
      const props = resource.Properties ?? {};
      const integration = isRecord(props.Integration) ? props.Integration : {};
      const authorizerId = refOf(props.AuthorizerId);
      return {
        logicalId,
        method: String(props.HttpMethod),
        path: pathOf(props.ResourceId) || '/',
        authorizationType: String(props.AuthorizationType ?? 'NONE'),
        authorizer: authorizerId === undefined ? undefined : authorizers.get(authorizerId),
        integrationType: String(integration.Type ?? 'MOCK'),
        functionLogicalId: functionsReferenced(integration.Uri, functionIds)[0],
      };
    });

  const gatewayResponses: Record<string, GatewayResponseModel> = {};
  for (const [, resource] of resolver.resourcesOfType('AWS::ApiGateway::GatewayResponse')) {
    const props = resource.Properties ?? {};
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(
      isRecord(props.ResponseParameters) ? props.ResponseParameters : {},
    )) {
      const header = /^gatewayresponse\.header\.(.+)$/.exec(name)?.[1];
      // Static values are single-quoted literals; anything else maps request data, not emulated.
      const literal = /^'(.*)'$/s.exec(String(value))?.[1];
      if (header !== undefined && literal !== undefined) headers[header] = literal;
    }
    const templates = isRecord(props.ResponseTemplates) ? props.ResponseTemplates : {};
    gatewayResponses[String(props.ResponseType)] = {
      statusCode: props.StatusCode === undefined ? undefined : Number(props.StatusCode),
      headers,
      body: typeof templates['application/json'] === 'string' ? templates['application/json'] : undefined,
    };
  }

  const [apiEntry] = resolver.resourcesOfType('AWS::ApiGateway::RestApi');
  let api: ApiModel | undefined;
  if (apiEntry !== undefined) {
    const [apiId] = apiEntry;
    const stageProps = resolver.resourcesOfType('AWS::ApiGateway::Stage')[0]?.[1].Properties ?? {};
    const stage = stageProps.StageName;
    const variables = resolver.resolve(stageProps.Variables);
    const [domain] = resolver.resourcesOfType('AWS::ApiGateway::DomainName');
    const customDomain =
      domain === undefined
        ? undefined
        : resolver.resolveString(domain[1].Properties?.DomainName, 'DomainName');
    const id = resolver.ref(apiId);
    api = {
      logicalId: apiId,
      id,
      stageName: typeof stage === 'string' ? stage : 'prod',
      stageVariables: isRecord(variables)
        ? Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, String(value)]))
        : null,
      customDomain,
      host: customDomain ?? `${id}.execute-api.${location.region}.amazonaws.com`,
    };
  }

  const outputs: Record<string, unknown> = {};
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    try {
      outputs[key] = resolver.resolve(output.Value);
    } catch {
      outputs[key] = undefined;
    }
  }

  return {
    assemblyDir,
    location,
    template,
    resolver,
    tables,
    functions,
    secrets,
    parameters,
    routes,
    gatewayResponses,
    api,
    outputs,
  };
}

/** The output whose key contains `name` (CDK prefixes output ids with the construct path). */
export function outputNamed(outputs: Readonly<Record<string, unknown>>, name: string): unknown {
  const key = Object.keys(outputs).find((candidate) => candidate.includes(name));
  return key === undefined ? undefined : outputs[key];
}

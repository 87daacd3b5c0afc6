/**
 * The package entry (`import { OAuth2TokenService, OAuth2Authorizer } from 'oauth2-token-service'`):
 * the CDK constructs and their configuration types. Built to `dist/` by `npm run build`.
 */
export { OAuth2Authorizer, type OAuth2AuthorizerOptions } from './infra/oauth2-authorizer.js';
export {
  OAuth2TokenService,
  type OAuth2TokenServiceProps,
} from './infra/oauth2-token-service.js';
export {
  OAuth2TokenServiceStack,
  type OAuth2TokenServiceStackProps,
} from './infra/oauth2-token-service-stack.js';
export { type ServiceParameterNames, ServiceParameters } from './infra/service-parameters.js';
export {
  type CustomDomain,
  type HookTarget,
  parseStageConfig,
  type StageConfig,
  StageConfigError,
} from './infra/stage-config.js';

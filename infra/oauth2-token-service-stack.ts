import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { OAuth2TokenService } from './oauth2-token-service.js';
import type { StageConfig } from './stage-config.js';

export interface OAuth2TokenServiceStackProps extends StackProps {
  readonly config: StageConfig;
}

/** The ready-to-deploy stack: `cdk deploy` with settings from cdk.json's `oauth2` context. */
export class OAuth2TokenServiceStack extends Stack {
  readonly service: OAuth2TokenService;

  constructor(scope: Construct, id: string, props: OAuth2TokenServiceStackProps) {
    super(scope, id, {
      description: 'OAuth 2.0 token service (token endpoint, authorizer, admin)',
      ...props,
    });
    this.service = new OAuth2TokenService(this, 'TokenService', props.config);
  }
}

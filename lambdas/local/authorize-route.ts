import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { buildAuthorizeLambda } from '../handlers/authorize-lambda';
import type { Environment } from '../handlers/environment-reader';
import { localLambdaContext, type RawHttpRequest, toProxyEvent } from './api-gateway-emulation';

export const AUTHORIZE_PATH = '/oauth2/authorize';

/**
 * `GET`/`POST /oauth2/authorize` on the local stack: the authorize Lambda's handler with the stack's
 * environment. The anti-forgery key is generated per start unless the environment names one, so a
 * restart invalidates open sign-in forms (the user starts again from the application).
 */
export function buildLocalAuthorizeRoute(env: Environment) {
  const hasFormSecret =
    env.AUTHORIZE_FORM_SECRET !== undefined || env.AUTHORIZE_FORM_SECRET_ARN !== undefined;
  const handler = buildAuthorizeLambda({
    ...env,
    ...(hasFormSecret ? {} : { AUTHORIZE_FORM_SECRET: randomBytes(32).toString('base64url') }),
  }) as unknown as (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  /** Answers the request when it is for the authorize endpoint, undefined otherwise. */
  return (raw: RawHttpRequest): Promise<APIGatewayProxyResult> | undefined =>
    raw.path === AUTHORIZE_PATH
      ? handler(toProxyEvent(raw, AUTHORIZE_PATH), localLambdaContext('authorize'))
      : undefined;
}

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { type AdminDeps, type AdminResult, type ClientView, runAdminCommand } from '../core/admin-actions';
import { parseAdminCommand } from '../core/admin-command';
import { oauthErrorBody } from '../core/oauth-errors';
import { toOAuthError } from './http-response';
import { LAMBDA_DEADLINE } from './lambda-deadline';

type Json = Record<string, unknown>;

const clientJson = (client: ClientView): Json => ({
  client_id: client.clientId,
  name: client.name,
  grant_types: client.grantTypes,
  scope: client.scope.join(' '),
  // Per-client settings appear only when set; absent means the service-wide defaults apply.
  ...(client.defaultScope !== undefined && { default_scope: client.defaultScope.join(' ') }),
  ...(client.accessTokenTtlSeconds !== undefined && {
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
  }),
  ...(client.refreshTokenTtlSeconds !== undefined && {
    refresh_token_ttl_seconds: client.refreshTokenTtlSeconds,
  }),
  ...(client.accessTokenFormat !== undefined && { access_token_format: client.accessTokenFormat }),
  ...(client.audiences !== undefined && { audiences: client.audiences }),
  created_at: new Date(client.createdAt * 1000).toISOString(),
  disabled: client.disabled,
  resource_server: client.resourceServer,
  redirect_uris: client.redirectUris,
  token_endpoint_auth_method: client.tokenEndpointAuthMethod,
  // Whether a secret replaced by rotate-secret --keep-previous-seconds still works, and until when.
  previous_secret_live: client.previousSecretExpiresAt !== undefined,
  ...(client.previousSecretExpiresAt !== undefined && {
    previous_secret_expires_at: isoTime(client.previousSecretExpiresAt),
  }),
});

const isoTime = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString();

/** Wire shapes of the admin function's answers (snake_case, like the token endpoint's). */
export function adminResultJson(result: AdminResult): Json {
  switch (result.action) {
    case 'create-client': {
      const {
        disabled: _disabled,
        previous_secret_live: _live,
        resource_server,
        ...client
      } = clientJson(result.client);
      // The secret is shown once, here; only its hash is stored. A public client has none.
      return {
        client_id: client.client_id,
        ...(result.clientSecret !== undefined && { client_secret: result.clientSecret }),
        ...client,
        resource_server,
      };
    }
    case 'list-clients':
      return { clients: result.clients.map(clientJson) };
    case 'rotate-secret':
      return {
        client_id: result.clientId,
        client_secret: result.clientSecret,
        rotated_at: isoTime(result.rotatedAt),
        ...(result.previousSecretExpiresAt !== undefined && {
          previous_secret_expires_at: isoTime(result.previousSecretExpiresAt),
        }),
      };
    case 'disable-client':
      return { client_id: result.clientId, disabled: true, revoked_grants: result.revokedGrants };
    case 'revoke-user-tokens':
      return { user_id: result.userId, revoked_grants: result.revokedGrants };
    case 'unlock-username':
      return { username: result.username, unlocked: true };
    case 'rotate-signing-key':
      return {
        outcome: result.outcome,
        ...(result.kid === undefined ? {} : { kid: result.kid }),
        ...(result.signsFrom === undefined
          ? {}
          : { signs_from: new Date(result.signsFrom * 1000).toISOString() }),
        ...(result.signingKid === undefined ? {} : { signing_kid: result.signingKid }),
        published_kids: result.publishedKids,
      };
  }
}

/**
 * The admin function: never behind HTTP, invoked with `aws lambda invoke` or the CLI. Errors are
 * answered as `{"error","error_description"}` payloads (not thrown) so the caller always gets JSON.
 */
export function createAdminHandler(deps: AdminDeps, logger: Logger) {
  return middy<unknown, Json>(LAMBDA_DEADLINE)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        const command = parseAdminCommand(event);
        logger.info('admin action', { action: command.action });
        return adminResultJson(await runAdminCommand(command, deps));
      } catch (error) {
        const failure = toOAuthError(error);
        logger.warn('admin action failed', {
          error: failure.code,
          cause: error instanceof Error ? error.name : typeof error,
        });
        return oauthErrorBody(failure);
      }
    });
}

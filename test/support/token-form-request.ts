import type { TokenHttpRequest } from '../../lambdas/core/token-endpoint';

/** A token endpoint request as the core sees it: POST over TLS, a form body, client_secret_basic. */
export const tokenFormRequest = (
  client: { readonly id: string; readonly secret: string },
  form: Record<string, string>,
): TokenHttpRequest => {
  const body = new URLSearchParams(form).toString();
  return {
    method: 'POST',
    secure: true,
    contentType: 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
    hasQueryParameters: false,
    body: () => body,
  };
};

import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InvalidRequest } from '../core/oauth-errors';

/** The discovery documents (metadata, JWKS) answer GET only: anything else is 405 with `Allow: GET`. */
export function requireGet(event: Pick<APIGatewayProxyEvent, 'httpMethod'>): void {
  if (event.httpMethod !== 'GET') {
    throw new InvalidRequest('This endpoint only supports the GET method', {
      status: 405,
      headers: { Allow: 'GET' },
    });
  }
}

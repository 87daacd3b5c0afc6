import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizePath,
  codeRequest,
  createPublicClient,
  obtainCode,
  type PublicClient,
  pkcePair,
  rawRequest,
  redirectParams,
} from './authorize-flow';
import { type ServiceUnderTest, startServiceUnderTest } from './service-under-test';

let service: ServiceUnderTest;
let app: PublicClient;
let metadata: Record<string, unknown>;

beforeAll(async () => {
  service = await startServiceUnderTest();
  app = await createPublicClient(service, { scope: 'read' });
  metadata = (await service.request('/.well-known/oauth-authorization-server')).json ?? {};
});

afterAll(() => service?.close());

describe('RFC 9207 authorization server issuer identification', () => {
  it('§3 a successful authorization response carries iss, equal to the metadata issuer', async () => {
    const { params } = await obtainCode(service, app, pkcePair(), { state: 's' });
    expect(params.get('iss')).toBe(metadata.issuer);
  });

  it('§2 an error response to the redirect URI carries iss too', async () => {
    const answer = await rawRequest(
      service,
      authorizePath(codeRequest(app, pkcePair(), { scope: 'admin', state: 's' })),
    );
    const params = redirectParams(answer);
    expect(params.get('error')).toBe('invalid_scope');
    expect(params.get('iss')).toBe(metadata.issuer);
  });

  it('§3 the metadata says authorization_response_iss_parameter_supported: true', () => {
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
  });
});

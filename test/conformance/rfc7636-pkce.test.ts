import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizePath,
  codeRequest,
  createPublicClient,
  exchangeCode,
  obtainCode,
  type PublicClient,
  pkcePair,
  rawRequest,
  redirectParams,
} from './authorize-flow';
import { type ServiceUnderTest, startServiceUnderTest } from './service-under-test';

let service: ServiceUnderTest;
let app: PublicClient;

beforeAll(async () => {
  service = await startServiceUnderTest();
  app = await createPublicClient(service);
});

afterAll(() => service?.close());

/** §4.4.1: the authorization request is refused with invalid_request, sent to the redirect URI. */
async function expectRefused(params: Record<string, string>): Promise<void> {
  const answer = await rawRequest(service, authorizePath({ ...params, state: 'pkce' }));
  expect(answer.status).toBe(302);
  const query = redirectParams(answer);
  expect(query.get('error')).toBe('invalid_request');
  expect(query.get('state')).toBe('pkce');
  expect(query.get('code')).toBeNull();
}

describe('RFC 7636 §4.3 / §4.4.1 the authorization request (PKCE required for every client)', () => {
  it('§4.4.1 a missing code_challenge is invalid_request', async () => {
    const { code_challenge: _, ...request } = codeRequest(app, pkcePair());
    await expectRefused(request);
  });

  it('§4.3 / RFC 9700 §2.1.1 code_challenge_method plain is refused (invalid_request)', async () => {
    const { verifier } = pkcePair();
    await expectRefused({
      ...codeRequest(app, pkcePair()),
      code_challenge: verifier,
      code_challenge_method: 'plain',
    });
  });

  it('§4.3 a missing code_challenge_method (which would mean plain) is refused (invalid_request)', async () => {
    const { code_challenge_method: _, ...request } = codeRequest(app, pkcePair());
    await expectRefused(request);
  });

  it('§4.2 a code_challenge that is not 43-128 characters of [A-Za-z0-9-._~] is invalid_request', async () => {
    for (const challenge of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}=`]) {
      await expectRefused({ ...codeRequest(app, pkcePair()), code_challenge: challenge });
    }
  });

  it('§4.2 the boundary lengths 43 and 128 are accepted', async () => {
    for (const challenge of ['a'.repeat(43), `${'A-._~'.repeat(25)}abc`]) {
      const answer = await rawRequest(
        service,
        authorizePath({ ...codeRequest(app, pkcePair()), code_challenge: challenge }),
      );
      expect(answer.status).toBe(200);
    }
  });
});

describe('RFC 7636 §4.5 / §4.6 the token request', () => {
  it('§4.6 the verifier whose S256 is the challenge redeems the code', async () => {
    const pkce = pkcePair();
    expect(createHash('sha256').update(pkce.verifier).digest('base64url')).toBe(pkce.challenge);
    const { code } = await obtainCode(service, app, pkce);
    expect((await exchangeCode(service, app, code, pkce.verifier)).status).toBe(200);
  });

  it('§4.6 a verifier whose S256 is not the challenge is invalid_grant', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    const answer = await exchangeCode(service, app, code, pkcePair().verifier);
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toBe('invalid_grant');
  });

  it('§4.6 the challenge itself sent as the verifier (a plain downgrade) is invalid_grant', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    expect((await exchangeCode(service, app, code, pkce.challenge)).json?.error).toBe('invalid_grant');
  });

  it('§4.5 a missing code_verifier is invalid_request', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    const answer = await exchangeCode(service, app, code, '');
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toBe('invalid_request');
  });

  it('§4.1 a malformed code_verifier (too short) is invalid_grant', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    expect((await exchangeCode(service, app, code, 'short')).json?.error).toBe('invalid_grant');
  });
});

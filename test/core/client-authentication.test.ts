import { describe, expect, it } from 'vitest';
import { authenticateClient } from '../../lambdas/core/client-authentication';
import { InvalidClient } from '../../lambdas/core/oauth-errors';
import { hashSecret } from '../../lambdas/core/token-secrets';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { aClient } from '../store/store-contract';

const NOW = 1_800_000_000;

async function rotatedClient(keepUntil?: number) {
  const clients = new InMemoryClientStore();
  await clients.createClient(aClient({ secretHash: hashSecret('old-secret') }));
  await clients.updateClientSecret('client-a', hashSecret('new-secret'), NOW, keepUntil);
  return clients;
}

const authenticate = (clients: InMemoryClientStore, clientSecret: string, now?: number) =>
  authenticateClient(
    { clientId: 'client-a', clientSecret, method: 'client_secret_basic' },
    clients,
    'oauth2',
    now,
  );

const refusedWith = async (attempt: Promise<unknown>, cause: string) => {
  const error = await attempt.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidClient);
  expect((error as InvalidClient).cause).toBe(cause);
};

describe('authenticateClient with a rotated-away secret', () => {
  it('accepts both secrets during the overlap and only the new one from its last second on', async () => {
    const clients = await rotatedClient(NOW + 60);
    await expect(authenticate(clients, 'new-secret', NOW + 59)).resolves.toMatchObject({
      clientId: 'client-a',
    });
    await expect(authenticate(clients, 'old-secret', NOW + 59)).resolves.toMatchObject({
      clientId: 'client-a',
    });
    await refusedWith(authenticate(clients, 'old-secret', NOW + 60), 'previous secret expired');
    await expect(authenticate(clients, 'new-secret', NOW + 10_000)).resolves.toMatchObject({
      clientId: 'client-a',
    });
  });

  it('refuses the old secret at once when the rotation kept none', async () => {
    const clients = await rotatedClient();
    await refusedWith(authenticate(clients, 'old-secret', NOW), 'secret mismatch');
  });

  it('refuses the old secret when the caller gives no time (fails closed)', async () => {
    const clients = await rotatedClient(NOW + 60);
    await refusedWith(authenticate(clients, 'old-secret'), 'previous secret expired');
  });

  it('refuses any other secret during the overlap', async () => {
    const clients = await rotatedClient(NOW + 60);
    await refusedWith(authenticate(clients, 'guess', NOW), 'secret mismatch');
  });

  it('refuses a disabled client whichever secret it presents', async () => {
    const clients = await rotatedClient(NOW + 60);
    await clients.disableClient('client-a', NOW);
    await refusedWith(authenticate(clients, 'old-secret', NOW), 'client disabled');
  });
});

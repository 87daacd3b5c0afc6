import { InMemoryAuthorizationCodeStore } from '../../lambdas/store/in-memory-authorization-code-store';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { InMemoryGrantStore } from '../../lambdas/store/in-memory-grant-store';
import { InMemoryLockoutStore } from '../../lambdas/store/in-memory-lockout-store';
import { describeStoreContract } from './store-contract';

describeStoreContract('in-memory', async () => ({
  clients: new InMemoryClientStore(),
  grants: new InMemoryGrantStore(),
  lockouts: new InMemoryLockoutStore(),
  codes: new InMemoryAuthorizationCodeStore(),
}));

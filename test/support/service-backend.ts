import type { Environment } from '../../lambdas/handlers/environment-reader';
import { createDynamoDbDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { createTablesIfMissing, type TableNames } from '../../lambdas/store/table-definitions';
import { type AuthCheckHookServer, type HookUser, startAuthCheckHookServer } from './auth-check-hook-server';
import { type DynaliteServer, startDynalite } from './dynalite-server';
import { TEST_LOCKOUT_KEY_SECRET } from './lockout-key-secret';

/** What every handler test stands on: dynalite with the tables, a signed loopback AuthCheck hook. */
export interface ServiceBackend {
  readonly dynalite: DynaliteServer;
  readonly hook: AuthCheckHookServer;
  /** Direct to dynalite, for the tests' own reads. */
  readonly dynamo: DynamoDbClients;
  /** The Lambdas' environment for this backend, with `extra` on top. */
  environment(extra?: Environment): Environment;
  stop(): Promise<void>;
}

export async function startServiceBackend(options: {
  readonly tables: TableNames;
  readonly hookSecret: string;
  readonly users: Readonly<Record<string, HookUser>>;
}): Promise<ServiceBackend> {
  const { tables } = options;
  const [dynalite, hook] = await Promise.all([
    startDynalite(),
    startAuthCheckHookServer({ secret: options.hookSecret, users: options.users }),
  ]);
  const dynamo = createDynamoDbDocumentClient({ endpoint: dynalite.endpoint });
  await createTablesIfMissing(dynamo.client, tables);
  return {
    dynalite,
    hook,
    dynamo,
    environment: (extra = {}) => ({
      CLIENTS_TABLE: tables.clients,
      GRANTS_TABLE: tables.grants,
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      AUTH_CHECK_URL: hook.url,
      AUTH_CHECK_SECRET: hook.secret,
      LOCKOUT_KEY_SECRET: TEST_LOCKOUT_KEY_SECRET,
      LOG_LEVEL: 'SILENT',
      // disable-client's second sweep waits for in-flight token requests; tests of the race set it.
      DISABLE_CLIENT_SECOND_SWEEP_SECONDS: '0',
      ...extra,
    }),
    async stop() {
      dynamo.client.destroy();
      await Promise.all([dynalite.stop(), hook.stop()]);
    },
  };
}

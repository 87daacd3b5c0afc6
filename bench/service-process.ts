/**
 * Child process: the server under load, alone in its process: our local stack (`ours`) or the peer
 * (`peer`), on the backend's dynalite and AuthCheck hook, with a DynamoDB call counter on its SDK
 * clients that the parent reads over IPC.
 */
import { startLocalStack } from '../lambdas/local/local-stack';
import { invokeLocalAdmin } from '../test/support/local-admin-invoke';
import { DynamoDbCallCounter } from './dynamodb-call-counter';
import type { ClientCredentials } from './in-process-lambdas';
import { instrumentDynamoDbClients } from './instrument-dynamodb-clients';
import { startPeerServer } from './peer-server';
import type { ServiceCounts, ServiceKind, ServiceReady } from './start-bench-service';

const kind = process.argv[2] as ServiceKind;
const dynamodbEndpoint = process.env.BENCH_DYNAMODB_ENDPOINT as string;
const hook = { url: process.env.BENCH_HOOK_URL as string, secret: process.env.BENCH_HOOK_SECRET as string };
const counter = new DynamoDbCallCounter();

async function startOurs(): Promise<{ url: string; client: ClientCredentials; close(): Promise<void> }> {
  instrumentDynamoDbClients(counter);
  const stack = await startLocalStack({
    port: 0,
    dynamodbEndpoint,
    authCheckUrl: hook.url,
    authCheckSecret: hook.secret,
    // BENCH_SERVICE_ENVIRONMENT: settings of this run (e.g. LOCKOUT_THRESHOLD=0), as JSON.
    environment: { LOG_LEVEL: 'SILENT', ...JSON.parse(process.env.BENCH_SERVICE_ENVIRONMENT ?? '{}') },
    demoClient: false,
  });
  // The client is created the way a deployer does it: the admin function over the Invoke API.
  const response = await invokeLocalAdmin(stack.url, {
    action: 'create-client',
    name: 'bench',
    grant_types: ['password', 'refresh_token', 'client_credentials'],
    scope: '',
  });
  const created = (await response.json()) as { client_id?: unknown; client_secret?: unknown };
  if (typeof created.client_id !== 'string' || typeof created.client_secret !== 'string') {
    throw new Error(`create-client failed: ${JSON.stringify(created)}`);
  }
  return {
    url: stack.url,
    client: { clientId: created.client_id, clientSecret: created.client_secret },
    close: () => stack.close(),
  };
}

const service =
  kind === 'ours' ? await startOurs() : await startPeerServer({ dynamodbEndpoint, hook, counter });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await service.close().catch(() => {});
  if (process.connected) process.disconnect();
};
process.on('message', (message: { type?: unknown }) => {
  if (message.type === 'stop') void stop();
  if (message.type === 'counts') {
    const { user, system } = process.cpuUsage();
    const answer: ServiceCounts = {
      type: 'counts',
      counts: counter.snapshot(),
      cpuMicros: user + system,
      systemCpuMicros: system,
    };
    process.send?.(answer);
  }
});
process.on('disconnect', () => void stop());

const ready: ServiceReady = { type: 'ready', url: service.url, client: service.client };
process.send?.(ready);

import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientStore } from '../../lambdas/core/client-store';
import { DependencyUnavailable } from '../../lambdas/core/dependency-unavailable';
import type { GrantStore } from '../../lambdas/core/grant-store';
import { createDynamoDbDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbClientStore } from '../../lambdas/store/dynamodb-client-store';
import { DynamoDbGrantStore } from '../../lambdas/store/dynamodb-grant-store';
import { aClient, aPasswordGrant } from './store-contract';

/** Text only the backend knows; it must never become the message a caller (and so a client) sees. */
const SECRET = 'arn:aws:dynamodb:eu-west-1:123456789012:table/internal-detail';

const listen = async (handler: RequestListener) => {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};

const endpointOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

const awsError = (status: number, type: string): RequestListener => {
  return (request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: SECRET }));
    });
  };
};

const failingWithText: RequestListener = (request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(`Internal failure: ${SECRET}`);
  });
};

/** Each backend misbehaviour, with the error name the SDK should report for it (when it has one). */
const servers: Record<string, { handler: RequestListener; causeName?: string; requestTimeoutMs?: number }> = {
  'HTTP 500 with a text body': { handler: failingWithText },
  ProvisionedThroughputExceededException: {
    handler: awsError(400, 'ProvisionedThroughputExceededException'),
    causeName: 'ProvisionedThroughputExceededException',
  },
  ValidationException: { handler: awsError(400, 'ValidationException'), causeName: 'ValidationException' },
  'ResourceNotFoundException (missing table)': {
    handler: awsError(400, 'ResourceNotFoundException'),
    causeName: 'ResourceNotFoundException',
  },
  'HTTP 200 with a body that is not JSON': {
    handler: (request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(`<html>${SECRET}</html>`);
      });
    },
  },
  'a server that never answers': {
    handler: (request) => request.resume(),
    causeName: 'TimeoutError',
    requestTimeoutMs: 100,
  },
};

const operations: Record<string, (stores: { clients: ClientStore; grants: GrantStore }) => Promise<unknown>> =
  {
    getClient: ({ clients }) => clients.getClient('client-a'),
    createClient: ({ clients }) => clients.createClient(aClient()),
    updateClientSecret: ({ clients }) => clients.updateClientSecret('client-a', 'hash', 1),
    disableClient: ({ clients }) => clients.disableClient('client-a', 1),
    listClients: ({ clients }) => clients.listClients(),
    createGrant: ({ grants }) => grants.createGrant(aPasswordGrant()),
    getGrant: ({ grants }) => grants.getGrant('grant-1'),
    redeemRefreshToken: ({ grants }) =>
      grants.redeemRefreshToken('grant-1', {
        clientId: 'client-a',
        presentedHash: 'refresh-hash-1',
        now: 1,
        accessHash: 'a',
        accessExpiresAt: 2,
        refreshHash: 'r',
        refreshExpiresAt: 3,
        maxLifetimeSeconds: 1000,
        expiresAt: 3,
      }),
    revokeGrant: ({ grants }) => grants.revokeGrant('grant-1', 1),
    listGrantIdsByUser: ({ grants }) => grants.listGrantIdsByUser('1234'),
    listGrantIdsByClient: ({ grants }) => grants.listGrantIdsByClient('client-a'),
  };

// Servers that answer get a generous timeout so a loaded CI machine cannot turn their error into a timeout.
const storesAt = (endpoint: string, requestTimeoutMs = 5000) => {
  const dynamo = createDynamoDbDocumentClient({ endpoint, maxAttempts: 1, requestTimeoutMs });
  return {
    dynamo,
    stores: {
      clients: new DynamoDbClientStore(dynamo.doc, 'clients'),
      grants: new DynamoDbGrantStore(dynamo.doc, 'grants'),
    },
  };
};

const expectStoreFailure = async (operation: string, attempt: Promise<unknown>, causeName?: string) => {
  const error: unknown = await attempt.then(
    () => expect.unreachable('the call should have failed'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DependencyUnavailable);
  const failure = error as DependencyUnavailable;
  expect(failure.dependency).toBe('store');
  expect(failure.message).toBe(`${operation} failed`);
  expect(failure.message).not.toContain('internal-detail');
  // The AWS error is kept for the log.
  expect(failure.cause).toBeInstanceOf(Error);
  if (causeName !== undefined) expect((failure.cause as Error).name).toBe(causeName);
};

describe('DynamoDB stores when DynamoDB fails', () => {
  describe('nothing listening on the port', () => {
    let dynamo: DynamoDbClients;
    let stores: ReturnType<typeof storesAt>['stores'];

    beforeAll(async () => {
      const server = await listen(() => {});
      const endpoint = endpointOf(server);
      await close(server);
      ({ dynamo, stores } = storesAt(endpoint));
    });

    afterAll(() => dynamo.client.destroy());

    it.each(Object.keys(operations))('%s rejects with DependencyUnavailable', async (operation) => {
      await expectStoreFailure(operation, operations[operation]?.(stores) ?? Promise.resolve());
    });
  });

  describe.each(Object.entries(servers))('%s', (_, { handler, causeName, requestTimeoutMs }) => {
    let server: Server;
    let dynamo: DynamoDbClients;
    let stores: ReturnType<typeof storesAt>['stores'];

    beforeAll(async () => {
      server = await listen(handler);
      ({ dynamo, stores } = storesAt(endpointOf(server), requestTimeoutMs));
    });

    afterAll(async () => {
      dynamo.client.destroy();
      await close(server);
    });

    it.each(Object.keys(operations))('%s rejects with DependencyUnavailable', async (operation) => {
      await expectStoreFailure(operation, operations[operation]?.(stores) ?? Promise.resolve(), causeName);
    });
  });
});

describe('createDynamoDbDocumentClient', () => {
  let server: Server;
  let requests = 0;

  beforeAll(async () => {
    server = await listen((request, response) => {
      requests += 1;
      failingWithText(request, response);
    });
  });

  afterAll(() => close(server));

  it('retries a server error up to 3 attempts by default, then gives up', async () => {
    const dynamo = createDynamoDbDocumentClient({ endpoint: endpointOf(server) });
    requests = 0;
    await expectStoreFailure('getClient', new DynamoDbClientStore(dynamo.doc, 'clients').getClient('x'));
    expect(requests).toBe(3);
    dynamo.client.destroy();
  });

  it('gives up on a silent server after requestTimeoutMs', async () => {
    const silent = await listen((request) => request.resume());
    const dynamo = createDynamoDbDocumentClient({
      endpoint: endpointOf(silent),
      maxAttempts: 1,
      requestTimeoutMs: 200,
    });
    const started = performance.now();
    await expectStoreFailure('getGrant', new DynamoDbGrantStore(dynamo.doc, 'grants').getGrant('x'));
    expect(performance.now() - started).toBeLessThan(1500);
    dynamo.client.destroy();
    await close(silent);
  });

  it('refuses nonsensical settings when built, not on the first request', () => {
    expect(() => createDynamoDbDocumentClient({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => createDynamoDbDocumentClient({ requestTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => createDynamoDbDocumentClient({ requestTimeoutMs: Number.NaN })).toThrow(RangeError);
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDbCallCounter } from './dynamodb-call-counter';

type Send = (...args: unknown[]) => unknown;

/**
 * Puts `counter`'s middleware on the stack of every DynamoDB client (and document client) of this
 * process the first time it sends, so the handlers' own composition roots (`buildTokenLambda(env)` …)
 * are counted exactly as they are built, whatever stores they add. The handlers create their SDK
 * clients inside `createDynamoDbDocumentClient` and give no way to reach them; this is the seam
 * that needs no change to `lambdas/`. Returns the function that takes the hook off again.
 */
export function instrumentDynamoDbClients(counter: DynamoDbCallCounter): () => void {
  const counted = new WeakSet<object>();
  const restores = [DynamoDBClient.prototype, DynamoDBDocumentClient.prototype].map((prototype) => {
    const own = Object.getOwnPropertyDescriptor(prototype, 'send');
    const inherited = prototype.send as unknown as Send;
    Object.defineProperty(prototype, 'send', {
      configurable: true,
      writable: true,
      value: function send(this: DynamoDBClient, ...args: unknown[]) {
        // A document client shares its client's stack: one middleware per stack.
        if (!counted.has(this.middlewareStack)) {
          counted.add(this.middlewareStack);
          counter.addTo(this);
        }
        return inherited.apply(this, args);
      },
    });
    return () => {
      if (own === undefined) Reflect.deleteProperty(prototype, 'send');
      else Object.defineProperty(prototype, 'send', own);
    };
  });
  return () => {
    for (const restore of restores) restore();
  };
}

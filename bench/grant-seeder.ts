import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GRANTS_USER_KEY_ATTRIBUTE } from '../lambdas/store/table-definitions';

const BATCH = 25;
const PARALLEL_BATCHES = 4;
const DAY = 24 * 3600;

/** A password grant item as the grant store writes it (other clients' and users' logins). */
function seedGrant(index: number, now: number): Record<string, unknown> {
  const hash = () => randomBytes(32).toString('base64url');
  return {
    grantId: randomBytes(16).toString('base64url'),
    clientId: `seed-client-${index % 20}`,
    grantType: 'password',
    userId: 100_000 + index,
    [GRANTS_USER_KEY_ATTRIBUTE]: String(100_000 + index),
    scope: ['profile'],
    accessScope: ['profile'],
    createdAt: now,
    issuedAt: now,
    accessHash: hash(),
    accessExpiresAt: now + 3600,
    refreshHash: hash(),
    refreshExpiresAt: now + 30 * DAY,
    consumedRefreshHashes: [],
    expiresAt: now + 30 * DAY,
  };
}

/**
 * Writes `count` grant items straight into `table` with BatchWriteItem (25 per call, a few calls in
 * flight), retrying unprocessed items. Stops early at `deadline` (epoch ms); returns how many it wrote.
 */
export async function seedGrants(
  doc: DynamoDBDocumentClient,
  table: string,
  count: number,
  deadline: number,
): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  let next = 0;
  let written = 0;
  const worker = async () => {
    while (next < count && Date.now() < deadline) {
      const size = Math.min(BATCH, count - next);
      const first = next;
      next += size;
      let requests = Array.from({ length: size }, (_, i) => ({
        PutRequest: { Item: seedGrant(first + i, now) },
      }));
      while (requests.length > 0) {
        const output = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        const unprocessed = output.UnprocessedItems?.[table] ?? [];
        written += requests.length - unprocessed.length;
        requests = unprocessed as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_BATCHES }, worker));
  return written;
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type OAuth2Server from '@node-oauth/oauth2-server';
import { signAuthCheckBody } from '../lambdas/auth-check/auth-check-signature';

export const PEER_TABLES = Object.freeze({ clients: 'peer-clients', tokens: 'peer-tokens' });

export interface PeerHook {
  readonly url: string;
  readonly secret: string;
}

type PeerModel = OAuth2Server.PasswordModel &
  OAuth2Server.RefreshTokenModel &
  OAuth2Server.ClientCredentialsModel;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const AUTH_CHECK_TIMEOUT_MS = 3000;

/** One item per token, keyed `a#<access token>` or `r#<refresh token>`; `expiresAt` in epoch ms. */
interface TokenItem {
  readonly token: string;
  readonly expiresAt: number;
  readonly clientId: string;
  readonly userId: string | number;
  readonly scope?: string[];
}

/**
 * A straightforward DynamoDB model for `@node-oauth/oauth2-server`, as its documentation describes a
 * model: clients by id (secret stored as SHA-256), one item per access token and per refresh token,
 * strongly consistent reads (revocation takes effect at once, as in our service), the refresh token
 * revoked by a DeleteItem that reports whether it existed (single use under concurrency), and
 * `getUser` asking the same signed HTTP AuthCheck hook our service asks.
 */
export function createPeerDynamoDbModel(doc: DynamoDBDocumentClient, hook: PeerHook): PeerModel {
  const getItem = async (token: string) =>
    (await doc.send(new GetCommand({ TableName: PEER_TABLES.tokens, Key: { token }, ConsistentRead: true })))
      .Item as TokenItem | undefined;
  const putItem = (item: TokenItem) =>
    doc.send(new PutCommand({ TableName: PEER_TABLES.tokens, Item: item }));
  const clientOf = (id: string): OAuth2Server.Client => ({ id, grants: ['password', 'refresh_token'] });

  return {
    async getClient(clientId, clientSecret) {
      const { Item } = await doc.send(
        new GetCommand({ TableName: PEER_TABLES.clients, Key: { clientId }, ConsistentRead: true }),
      );
      if (Item === undefined) return false;
      const stored = Buffer.from(String(Item.secretHash), 'base64url');
      const presented = sha256(clientSecret ?? '');
      if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return false;
      return { id: clientId, grants: Item.grants as string[] };
    },

    async getUser(username, password, client) {
      const body = JSON.stringify({ username, password, client_id: client.id });
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-oauth2-timestamp': String(timestamp),
          'x-oauth2-signature': signAuthCheckBody(hook.secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(AUTH_CHECK_TIMEOUT_MS),
      });
      if (response.status === 401 || response.status === 403) return false;
      if (!response.ok) throw new Error(`AuthCheck answered ${response.status}`);
      const answer = (await response.json()) as { user_id?: unknown };
      const userId = answer.user_id;
      return typeof userId === 'string' || typeof userId === 'number' ? { id: userId } : false;
    },

    // client_credentials: the client acts for itself (RFC 6749 §4.4), no lookup needed.
    async getUserFromClient(client) {
      return { id: client.id };
    },

    async saveToken(token, client, user) {
      const base = {
        clientId: client.id,
        userId: user.id as string | number,
        ...(token.scope && { scope: token.scope }),
      };
      await Promise.all([
        putItem({
          ...base,
          token: `a#${token.accessToken}`,
          expiresAt: expiryOf(token.accessTokenExpiresAt),
        }),
        ...(token.refreshToken === undefined
          ? []
          : [
              putItem({
                ...base,
                token: `r#${token.refreshToken}`,
                expiresAt: expiryOf(token.refreshTokenExpiresAt),
              }),
            ]),
      ]);
      return { ...token, client, user };
    },

    async getAccessToken(accessToken) {
      const item = await getItem(`a#${accessToken}`);
      if (item === undefined) return false;
      return {
        accessToken,
        accessTokenExpiresAt: new Date(item.expiresAt),
        ...(item.scope && { scope: item.scope }),
        client: clientOf(item.clientId),
        user: { id: item.userId },
      };
    },

    async getRefreshToken(refreshToken) {
      const item = await getItem(`r#${refreshToken}`);
      if (item === undefined) return false;
      return {
        refreshToken,
        refreshTokenExpiresAt: new Date(item.expiresAt),
        ...(item.scope && { scope: item.scope }),
        client: clientOf(item.clientId),
        user: { id: item.userId },
      };
    },

    async revokeToken(token) {
      const { Attributes } = await doc.send(
        new DeleteCommand({
          TableName: PEER_TABLES.tokens,
          Key: { token: `r#${token.refreshToken}` },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes !== undefined;
    },
  };
}

const expiryOf = (date: Date | undefined): number => (date ?? new Date(Date.now() + 3600_000)).getTime();

/** Creates the peer's two tables (ACTIVE at once on dynalite). */
export async function createPeerTables(client: DynamoDBClient): Promise<void> {
  for (const [table, key] of [
    [PEER_TABLES.clients, 'clientId'],
    [PEER_TABLES.tokens, 'token'],
  ] as const) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}

/** Registers a peer client (secret stored as its SHA-256) with the password and refresh grants. */
export async function registerPeerClient(
  doc: DynamoDBDocumentClient,
  clientId: string,
  clientSecret: string,
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: PEER_TABLES.clients,
      Item: {
        clientId,
        secretHash: sha256(clientSecret).toString('base64url'),
        grants: ['password', 'refresh_token', 'client_credentials'],
      },
    }),
  );
}

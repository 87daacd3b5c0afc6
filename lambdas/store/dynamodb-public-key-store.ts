import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PublicKeyStore, PublishedKeySet } from '../core/signing-keys';
import type { DocumentSender } from './cached-document-sender';
import { type Item, ItemReader, storeFailure } from './item-attributes';
import { parsePublishedKeySet } from './signing-key-set-json';
import { GRANTS_PARTITION_KEY, PUBLIC_KEYS_ITEM_KEY } from './table-definitions';

/** `PublicKeyStore` on the one public key item of the grants table (`PUBLIC_KEYS_ITEM_KEY`). */
export class DynamoDbPublicKeyStore implements PublicKeyStore {
  constructor(
    private readonly doc: DocumentSender,
    private readonly tableName: string,
  ) {}

  async loadPublicKeys(): Promise<PublishedKeySet | undefined> {
    let item: Item | undefined;
    try {
      const output = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [GRANTS_PARTITION_KEY]: PUBLIC_KEYS_ITEM_KEY },
          // Consistent: a key published a moment ago by the rotation is what an unknown kid looks for.
          ConsistentRead: true,
        }),
      );
      item = output.Item;
    } catch (error) {
      throw storeFailure('loadPublicKeys', error);
    }
    if (item === undefined) return undefined;
    const read = new ItemReader(item, 'loadPublicKeys');
    try {
      return parsePublishedKeySet(read.string('keySet'));
    } catch {
      throw read.malformed('keySet');
    }
  }

  async publishPublicKeys(keys: PublishedKeySet): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [GRANTS_PARTITION_KEY]: PUBLIC_KEYS_ITEM_KEY, keySet: JSON.stringify(keys) },
        }),
      );
    } catch (error) {
      throw storeFailure('publishPublicKeys', error);
    }
  }
}

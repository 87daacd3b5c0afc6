import { DependencyUnavailable } from '../core/dependency-unavailable';

/** An item as the document client returns it. */
export type Item = Record<string, unknown>;

/** Any backend failure, reported without the AWS text (that stays in `cause`, for the log only). */
export const storeFailure = (operation: string, cause: unknown): DependencyUnavailable =>
  new DependencyUnavailable('store', `${operation} failed`, { cause });

/** The one AWS error the stores turn into a domain answer instead of `DependencyUnavailable`. */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/**
 * Reads typed attributes out of a stored item. An item that does not have the shape we wrote is not
 * something to authenticate against: it becomes `DependencyUnavailable`, like any other bad answer.
 */
export class ItemReader {
  constructor(
    private readonly item: Item,
    private readonly operation: string,
  ) {}

  string(name: string): string {
    const value = this.item[name];
    if (typeof value !== 'string') throw this.malformed(name);
    return value;
  }

  number(name: string): number {
    const value = this.item[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.malformed(name);
    return value;
  }

  boolean(name: string): boolean {
    const value = this.item[name];
    if (typeof value !== 'boolean') throw this.malformed(name);
    return value;
  }

  stringList(name: string): string[] {
    const value = this.item[name];
    if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
      throw this.malformed(name);
    }
    return [...value];
  }

  /** Narrows a string attribute to one of `allowed`. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.string(name);
    if (!(allowed as readonly string[]).includes(value)) throw this.malformed(name);
    return value as T;
  }

  optionalString(name: string): string | undefined {
    return this.item[name] === undefined ? undefined : this.string(name);
  }

  optionalNumber(name: string): number | undefined {
    return this.item[name] === undefined ? undefined : this.number(name);
  }

  optionalStringList(name: string): string[] | undefined {
    return this.item[name] === undefined ? undefined : this.stringList(name);
  }

  optionalBoolean(name: string): boolean | undefined {
    return this.item[name] === undefined ? undefined : this.boolean(name);
  }

  malformed(name: string): DependencyUnavailable {
    return storeFailure(
      this.operation,
      new TypeError(`stored item has a missing or mistyped attribute: ${name}`),
    );
  }
}

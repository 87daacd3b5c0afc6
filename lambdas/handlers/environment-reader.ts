import type { LogLevel } from '../http/service-logger';
import { ConfigurationError } from './configuration-error';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Typed, validated reads of environment variables; every mistake names the variable. */
export class EnvironmentReader {
  constructor(private readonly env: Environment) {}

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new ConfigurationError(`${name} is required`);
    return value;
  }

  /**
   * Only the exact strings `true` and `false` are accepted: the original treated `False` as true
   * and an empty value as false, which silently disabled HTTPS enforcement.
   */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.env[name];
    if (value === undefined) return fallback;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new ConfigurationError(`${name} must be "true" or "false", got ${JSON.stringify(value)}`);
  }

  integer(name: string, fallback: number, bounds: { min: number; max: number }): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
      throw new ConfigurationError(
        `${name} must be an integer from ${bounds.min} to ${bounds.max}, got "${raw}"`,
      );
    }
    return value;
  }

  logLevel(): LogLevel {
    const raw = (this.optional('LOG_LEVEL') ?? 'INFO').toUpperCase();
    if (!['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'].includes(raw)) {
      throw new ConfigurationError(`LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, SILENT, got "${raw}"`);
    }
    return raw as LogLevel;
  }
}

/** Bad configuration fails when the handler is built (cold start), never on the first request. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** Milliseconds since the Unix epoch. Injected so expiry logic can be tested with frozen time. */
export type Clock = () => number;

export const toEpochSeconds = (ms: number): number => Math.floor(ms / 1000);

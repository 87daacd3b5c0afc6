/** A seeded pseudo-random source in [0, 1) (mulberry32): fault schedules that replay from their seed. */
export type SeededRandom = () => number;

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One of `choices`, drawn with the given relative weights. */
export function pickWeighted<T>(random: SeededRandom, choices: ReadonlyArray<readonly [T, number]>): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let point = random() * total;
  for (const [choice, weight] of choices) {
    point -= weight;
    if (point < 0) return choice;
  }
  const last = choices.at(-1);
  if (last === undefined) throw new Error('pickWeighted needs at least one choice');
  return last[0];
}

/** A uniformly drawn element of a non-empty list. */
export function pickOne<T>(random: SeededRandom, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pickOne needs a non-empty list');
  return item;
}

/** Counts by key, printed in insertion order: the outcome tallies the reliability tests report. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(key: string, amount = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + amount);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Sum of every key that starts with `prefix`. */
  sum(prefix = ''): number {
    let total = 0;
    for (const [key, count] of this.counts) if (key.startsWith(prefix)) total += count;
    return total;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  toString(): string {
    return [...this.counts].map(([key, count]) => `${key}=${count}`).join(' ');
  }
}

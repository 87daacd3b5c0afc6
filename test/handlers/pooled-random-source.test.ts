import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPooledRandomSource } from '../../lambdas/handlers/pooled-random-source';

/** A fill that writes 1, 2, 3 … across calls and counts them, so every byte handed out is traceable. */
const countingFill = () => {
  let next = 0;
  const calls: number[] = [];
  const fill = (buffer: Uint8Array) => {
    calls.push(buffer.length);
    for (let i = 0; i < buffer.length; i += 1) {
      next += 1;
      buffer[i] = next % 256;
    }
    return buffer;
  };
  return { fill, calls };
};

describe('createPooledRandomSource', () => {
  it('hands each pool byte out exactly once, in order, refilling when the rest is too short', () => {
    const { fill, calls } = countingFill();
    const random = createPooledRandomSource(fill, 10);
    expect([...random(4)]).toEqual([1, 2, 3, 4]);
    expect([...random(4)]).toEqual([5, 6, 7, 8]);
    // 2 left, 4 asked: a fresh pool, the 2 left are never used.
    expect([...random(4)]).toEqual([11, 12, 13, 14]);
    expect(calls).toEqual([10, 10]);
  });

  it('fills a request larger than the pool on its own', () => {
    const { fill, calls } = countingFill();
    const random = createPooledRandomSource(fill, 8);
    expect(random(20)).toHaveLength(20);
    expect(calls).toEqual([20]);
  });

  it('returns copies, and zeroes what it handed out inside the pool', () => {
    let pool: Uint8Array | undefined;
    const random = createPooledRandomSource((buffer) => {
      pool = buffer;
      return randomFillSync(buffer);
    }, 64);
    const first = random(32);
    expect(pool?.subarray(0, 32).every((byte) => byte === 0)).toBe(true);
    expect(first.some((byte) => byte !== 0)).toBe(true);
    // A copy: writing to it leaves the pool (zeroed where it came from) as it was.
    first.fill(7);
    expect(pool?.subarray(0, 32).every((byte) => byte === 0)).toBe(true);
    const rest = Buffer.from(pool?.subarray(32) ?? []);
    expect(rest.some((byte) => byte !== 0)).toBe(true);
    expect(Buffer.from(random(32))).toEqual(rest);
  });

  it('never repeats a 256-bit value over many draws from the real CSPRNG', () => {
    const random = createPooledRandomSource();
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i += 1) seen.add(Buffer.from(random(32)).toString('hex'));
    expect(seen.size).toBe(5_000);
  });

  it('refuses nonsense sizes', () => {
    expect(() => createPooledRandomSource(randomFillSync, 0)).toThrow(RangeError);
    const random = createPooledRandomSource();
    expect(() => random(-1)).toThrow(RangeError);
    expect(() => random(1.5)).toThrow(RangeError);
    expect(random(0)).toHaveLength(0);
  });
});

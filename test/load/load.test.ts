import { describe, expect, it } from 'vitest';
import { formatLoadReport, runLoad } from './load-run';

/** The short CI version of `npm run load`: the same run and invariants, 6 s of load. */
describe('bounded load against the local stack', () => {
  it('holds its invariants: no 5xx, no lost token, memory flat', async () => {
    const report = await runLoad({ durationSeconds: 6, connections: 8, log: () => undefined });
    console.log(`[load]\n${formatLoadReport(report)}`);
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    // Traffic really flowed (a few sessions at the very least, on however slow a machine).
    expect(report.requests).toBeGreaterThan(50);
  }, 40_000);
});

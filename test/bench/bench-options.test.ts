import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchOptions, resultsDestination } from '../../bench/bench-options';

const COMMITTED = '/repo/bench/results/';
const NOW = new Date('2026-12-02T13:00:00.000Z');

/** Issue 14, item 15: only a complete full run asked to save changes the committed results. */
describe('npm run bench: where the results go', () => {
  it('a full run with --save, every section complete, replaces bench/results/latest.*', () => {
    const options = parseBenchOptions(['--save']);
    expect(resultsDestination(options, 0, COMMITTED, NOW)).toEqual({
      dir: COMMITTED,
      name: 'latest',
      committed: true,
    });
  });

  it('--quick writes elsewhere (the temp dir, or --out), never the committed files', () => {
    const quick = resultsDestination(parseBenchOptions(['--quick']), 0, COMMITTED, NOW);
    expect(quick.committed).toBe(false);
    expect(quick.dir).not.toBe(COMMITTED);
    expect(quick.dir).toContain('oauth2-bench-quick-2026-12-02T13-00-00-000Z');
    const out = resultsDestination(parseBenchOptions(['--quick', '--out=/tmp/mine']), 0, COMMITTED, NOW);
    expect(out).toEqual({ dir: join('/tmp/mine'), name: 'latest', committed: false });
  });

  it('a full run without --save, or with a section that failed, writes elsewhere too', () => {
    expect(resultsDestination(parseBenchOptions([]), 0, COMMITTED, NOW).committed).toBe(false);
    expect(resultsDestination(parseBenchOptions(['--save']), 1, COMMITTED, NOW).committed).toBe(false);
  });

  it('a profiled run saves under profiled.*, and --save with --quick is refused', () => {
    const profiled = resultsDestination(parseBenchOptions(['--save', '--profile=/tmp/p']), 0, COMMITTED, NOW);
    expect(profiled).toMatchObject({ dir: COMMITTED, name: 'profiled', committed: true });
    expect(() => parseBenchOptions(['--quick', '--save'])).toThrow(/needs a full run/);
    expect(() => parseBenchOptions(['--nope'])).toThrow(/unknown option/);
  });
});

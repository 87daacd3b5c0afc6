import { describe, expect, it } from 'vitest';
import { type CallInterval, sequentialRoundTrips } from '../../bench/dynamodb-call-counter';

const call = (kind: CallInterval['kind'], start: number, end: number): CallInterval => ({ kind, start, end });

describe('sequentialRoundTrips (the bench’s critical-path count)', () => {
  it('counts calls made one after the other', () => {
    expect(
      sequentialRoundTrips([call('dynamodb', 0, 2), call('hook', 3, 9), call('dynamodb', 10, 12)]),
    ).toEqual({ dynamodb: 2, hook: 1 });
  });

  it('counts calls that overlap once: they ran in parallel', () => {
    // client read; lockout reservation; AuthCheck; then the grant write beside the lockout release.
    expect(
      sequentialRoundTrips([
        call('dynamodb', 0, 2),
        call('dynamodb', 3, 5),
        call('hook', 6, 10),
        call('dynamodb', 11, 14),
        call('dynamodb', 11.5, 13),
      ]),
    ).toEqual({ dynamodb: 3, hook: 1 });
  });

  it('answers zero round trips for no call', () => {
    expect(sequentialRoundTrips([])).toEqual({ dynamodb: 0, hook: 0 });
  });
});

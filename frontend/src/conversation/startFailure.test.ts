import { describe, expect, it } from 'vitest';

import { ApiError, retryAfterSeconds } from '../api/client';
import { startFailure } from './startFailure';

describe('retryAfterSeconds', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-12-07T03:00:00Z');
    expect(retryAfterSeconds('20', now)).toBe(20);
    expect(retryAfterSeconds('Mon, 07 Dec 2026 03:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds(null, now)).toBeNull();
    expect(retryAfterSeconds('soon', now)).toBeNull();
  });
});

describe('startFailure', () => {
  it('a capacity answer without a count or Retry-After still says what to do', () => {
    expect(startFailure(new ApiError('x', 429, 'tavus_capacity'))).toBe(
      'No free conversation slot right now (all in use). Try again in a moment.',
    );
  });

  it('no answer at all, and a refused prospect', () => {
    expect(startFailure(new TypeError('Failed to fetch'))).toMatch(/can't be reached/);
    expect(startFailure(new ApiError('x', 401, 'unauthorized'))).toMatch(/Only the demo’s owner/);
  });
});

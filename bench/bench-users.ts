/** The one user the loopback AuthCheck hook knows, for both sides of every run. */
export const BENCH_USER = Object.freeze({ username: 'bench-user', password: 'bench-password', userId: 1234 });

/**
 * Timed password grants and the logins that mint token pools are spread over this many users, as real
 * traffic is: the lockout bounds the attempts in flight per username, and one user logging in from
 * every connection would measure that user's budget, not the service (issue 13).
 */
export const BENCH_USER_COUNT = 5000;

/** The `index`-th of the bench users (`0 ≤ index < BENCH_USER_COUNT`); the hook knows them all. */
export const benchUser = (index: number) => {
  const n = ((index % BENCH_USER_COUNT) + BENCH_USER_COUNT) % BENCH_USER_COUNT;
  return { username: `bench-user-${n}`, password: `bench-password-${n}`, userId: 10_000 + n };
};

/** Every bench user, as the AuthCheck hook's user table (`BENCH_USER` included). */
export const benchHookUsers = (): Record<string, { password: string; userId: number }> => ({
  [BENCH_USER.username]: { password: BENCH_USER.password, userId: BENCH_USER.userId },
  ...Object.fromEntries(
    Array.from({ length: BENCH_USER_COUNT }, (_, index) => {
      const user = benchUser(index);
      return [user.username, { password: user.password, userId: user.userId }];
    }),
  ),
});

/** Table names of our service, as the local stack names them. */
export const SERVICE_TABLES = Object.freeze({ clients: 'oauth2-clients', grants: 'oauth2-grants' });

/** The one user the loopback AuthCheck hook knows, for both sides of every run. */
export const BENCH_USER = Object.freeze({ username: 'bench-user', password: 'bench-password', userId: 1234 });

/** Table names of our service, as the local stack names them. */
export const SERVICE_TABLES = Object.freeze({ clients: 'oauth2-clients', grants: 'oauth2-grants' });

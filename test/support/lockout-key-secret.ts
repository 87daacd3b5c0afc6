/** The lockout key secret of every test Lambda (`LOCKOUT_KEY_SECRET`): 32+ characters, as required. */
export const TEST_LOCKOUT_KEY_SECRET = 'test-lockout-key-secret-0123456789abcdef';

/** The same secret as a `lockoutKeySecret` dependency. */
export const testLockoutKeySecret = async (): Promise<string> => TEST_LOCKOUT_KEY_SECRET;

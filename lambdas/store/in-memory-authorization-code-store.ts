import {
  type AuthorizationCodeRecord,
  type AuthorizationCodeStore,
  type CodeRedemption,
  redemptionAllowed,
} from '../core/authorization-code-store';

const copyCode = (code: AuthorizationCodeRecord): AuthorizationCodeRecord => ({
  ...code,
  scope: [...code.scope],
});

/**
 * `AuthorizationCodeStore` in a Map, for unit tests; held to the same contract suite as the DynamoDB
 * one. Each method checks and writes without awaiting in between (the atomicity of a conditional write).
 */
export class InMemoryAuthorizationCodeStore implements AuthorizationCodeStore {
  private readonly codes = new Map<string, AuthorizationCodeRecord>();

  async createCode(code: AuthorizationCodeRecord): Promise<void> {
    this.codes.set(code.codeHash, copyCode(code));
  }

  async getCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    const code = this.codes.get(codeHash);
    return code === undefined ? undefined : copyCode(code);
  }

  async redeemCode(
    codeHash: string,
    redemption: CodeRedemption,
  ): Promise<AuthorizationCodeRecord | undefined> {
    const code = this.codes.get(codeHash);
    if (code === undefined || !redemptionAllowed(code, redemption)) return undefined;
    const redeemed: AuthorizationCodeRecord = {
      ...code,
      redeemedAt: redemption.now,
      grantId: redemption.grantId,
      expiresAt: redemption.expiresAt,
    };
    this.codes.set(codeHash, redeemed);
    return copyCode(redeemed);
  }

  async markReplayed(codeHash: string, at: number): Promise<AuthorizationCodeRecord | undefined> {
    const code = this.codes.get(codeHash);
    if (code === undefined) return undefined;
    const marked = code.replayedAt === undefined ? { ...code, replayedAt: at } : code;
    this.codes.set(codeHash, marked);
    return copyCode(marked);
  }
}

import type { UserId } from './auth-check';
import type { GrantType } from './grant-type';

/**
 * What happened, for the audit log. Never carries a token, secret, password or header:
 * ids only, so the sink can log the whole object.
 */
export type AuditEvent =
  | { type: 'token_issued'; grantType: GrantType; clientId: string; grantId: string; userId?: UserId }
  | { type: 'token_refused'; grantType?: string; clientId?: string; error: string; reason: string }
  | { type: 'refresh_token_reused'; clientId: string; grantId: string; userId?: UserId; revoked: boolean }
  | {
      /** A username reached the lockout threshold; `lockoutKey` is its hash (`lockoutKeyOf`), not the name. */
      type: 'username_locked';
      clientId: string;
      lockoutKey: string;
      failures: number;
      lockedSeconds: number;
    }
  | { type: 'grant_revoked'; grantId: string; clientId?: string; reason: string }
  /** A used authorization code came back: the grant issued from its first use was revoked. */
  | { type: 'authorization_code_reused'; clientId: string; grantId?: string; userId: UserId }
  /** The authorize endpoint sent a code to the client's redirect URI (never the code itself). */
  | { type: 'authorization_code_issued'; clientId: string; userId: UserId; via: 'sign-in' | 'session' }
  | { type: 'authorization_refused'; clientId?: string; error: string; reason: string }
  | {
      type: 'admin_action';
      action: string;
      clientId?: string;
      userId?: UserId;
      count?: number;
      lockoutKey?: string;
      /** rotate-secret with an overlap: when the replaced secret stops working (epoch seconds). */
      previousSecretExpiresAt?: number;
    };

export type AuditSink = (event: AuditEvent) => void;

export const noAudit: AuditSink = () => {};

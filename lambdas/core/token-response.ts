import type { UserId } from './auth-check';
import { formatScope } from './scope';

/** RFC 6749 §5.1 plus the original's `user_id`. Key order is the wire order. */
export interface TokenResponseBody {
  readonly access_token: string;
  readonly token_type: 'bearer';
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly user_id?: UserId;
  readonly scope?: string;
}

export function tokenResponse(fields: {
  accessToken: string;
  expiresIn: number;
  refreshToken?: string;
  userId?: UserId;
  scope: readonly string[];
}): TokenResponseBody {
  return {
    access_token: fields.accessToken,
    token_type: 'bearer',
    expires_in: fields.expiresIn,
    ...(fields.refreshToken === undefined ? {} : { refresh_token: fields.refreshToken }),
    ...(fields.userId === undefined ? {} : { user_id: fields.userId }),
    ...(fields.scope.length === 0 ? {} : { scope: formatScope(fields.scope) }),
  };
}

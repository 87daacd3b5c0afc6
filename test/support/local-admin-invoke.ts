/**
 * Headers the local stack's Invoke API requires of a caller (lambdas/local/local-invoke-guard.ts):
 * JSON, and an Authorization of the AWS Signature V4 shape the AWS CLI and SDK send. The local
 * stack checks the shape only, so a fixed dummy signature will do in tests and the bench.
 */
export const LOCAL_INVOKE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'application/json',
  Authorization:
    'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=' +
    '0'.repeat(64),
});

/** POSTs `payload` to the local stack's admin function, as `aws lambda invoke` would. */
export function invokeLocalAdmin(
  baseUrl: string,
  payload: unknown,
  options: { functionName?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${baseUrl}/2015-03-31/functions/${options.functionName ?? 'admin'}/invocations`, {
    method: 'POST',
    headers: { ...LOCAL_INVOKE_HEADERS, ...options.headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

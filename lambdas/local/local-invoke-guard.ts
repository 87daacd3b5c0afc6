/**
 * Who may use the local stack's Lambda Invoke API (the admin function: it creates clients and
 * answers with their secrets). A web page must never be able to: a cross-origin "simple" request
 * (text/plain, form or multipart body, no custom header) needs no CORS preflight, and DNS
 * rebinding turns any site into a same-origin caller. So the request must name a loopback `Host`
 * (a rebound name is not one), carry a body type a page cannot send without a preflight we never
 * answer, and an `Authorization` header shaped like the AWS Signature V4 the AWS CLI and SDK send
 * (the signature is not verified: locally there are no real credentials to verify it with).
 */
export interface InvokeRefusal {
  readonly status: 403 | 415;
  /** The Lambda API's error type (`X-Amzn-ErrorType`). */
  readonly type: string;
  readonly message: string;
}

/**
 * Body types accepted: `application/json`; `application/octet-stream`, which the AWS SDK for
 * JavaScript v3 (and so `npm run cli`) sends for Invoke; and none at all, which the AWS CLI
 * (botocore) sends. All three force a browser to preflight a cross-origin request.
 */
const ACCEPTED_CONTENT_TYPES = new Set(['application/json', 'application/octet-stream']);

/** `AWS4-HMAC-SHA256 Credential=<key>/<yyyymmdd>/<region>/lambda/aws4_request, SignedHeaders=…, Signature=<hex>` */
const SIGV4_AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=[^\s/,]+\/\d{8}\/[a-z0-9-]+\/lambda\/aws4_request,\s*SignedHeaders=[a-z0-9;-]+,\s*Signature=[0-9a-f]{64}$/;

/** The first value of a header, by case-insensitive name, from Node's `rawHeaders`. */
function headerOf(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) return rawHeaders[i + 1];
  }
  return undefined;
}

export function isLoopbackHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  // 0.0.0.0 and [::] reach this machine only (a stack started with HOST=0.0.0.0 listens there); a
  // rebound DNS name still arrives as that name, which is refused.
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '0.0.0.0' ||
    hostname === '[::]' ||
    /^127\.(?:25[0-5]|2[0-4]\d|1?\d?\d)\.(?:25[0-5]|2[0-4]\d|1?\d?\d)\.(?:25[0-5]|2[0-4]\d|1?\d?\d)$/.test(
      hostname,
    )
  );
}

/** Why this Invoke request is refused, or undefined when it may reach the admin function. */
export function localInvokeRefusal(rawHeaders: readonly string[]): InvokeRefusal | undefined {
  if (!isLoopbackHost(headerOf(rawHeaders, 'host'))) {
    return {
      status: 403,
      type: 'AccessDeniedException',
      message: 'The local Invoke API answers only a loopback Host (127.0.0.1, localhost, [::1] or 0.0.0.0)',
    };
  }
  const contentType = headerOf(rawHeaders, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== undefined && !ACCEPTED_CONTENT_TYPES.has(mediaType)) {
    return {
      status: 415,
      type: 'UnsupportedMediaTypeException',
      message: 'The payload must be sent as application/json',
    };
  }
  const authorization = headerOf(rawHeaders, 'authorization');
  if (authorization === undefined) {
    return {
      status: 403,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token: sign the request (aws lambda invoke or npm run cli do)',
    };
  }
  if (!SIGV4_AUTHORIZATION.test(authorization.trim())) {
    return {
      status: 403,
      type: 'IncompleteSignatureException',
      message: 'The Authorization header must be an AWS Signature Version 4 for the lambda service',
    };
  }
  return undefined;
}

import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { FORM_CONTENT_TYPE, tokenRequest } from './api-gateway-events';

/** Any UTF-16 code unit, lone surrogates included: API Gateway events are JSON, so anything can arrive. */
export const anyChar = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

export const anyString = (maxLength = 60) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: anyChar, maxLength }),
  );

/** Fragments of broken form encoding. */
export const percentGarbage = fc
  .array(
    fc.constantFrom(
      '%',
      '%Z',
      '%E0%A4',
      '%FF',
      '%C3%28',
      '%00',
      '%25',
      '+',
      '&',
      '=',
      '&&',
      'grant_type',
      '=password',
      'a',
    ),
    {
      maxLength: 20,
    },
  )
  .map((parts) => parts.join(''));

export const contentTypeArb = fc.oneof(
  { weight: 30, arbitrary: fc.constant(FORM_CONTENT_TYPE) },
  fc.constantFrom(
    `${FORM_CONTENT_TYPE}; charset=UTF-8`,
    `${FORM_CONTENT_TYPE}; charset=latin1`,
    `${FORM_CONTENT_TYPE};;;charset`,
    `${FORM_CONTENT_TYPE}; charset="utf-8"`,
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=--x',
    '',
  ),
  anyString(60),
  fc.constant(undefined),
);

export const protoArb = fc.oneof(
  { weight: 30, arbitrary: fc.constant('https') },
  fc.constantFrom('http', 'HTTPS', 'https, http', ''),
  anyString(10),
  fc.constant(undefined),
);

export const extraHeadersArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  fc.dictionary(
    fc.oneof(anyString(20), fc.constantFrom('__proto__', 'constructor', 'content-type', 'AUTHORIZATION')),
    anyString(40),
    {
      maxKeys: 3,
    },
  ),
);

export const queryArb = fc.oneof(
  { weight: 20, arbitrary: fc.constant(null) },
  fc.dictionary(anyString(15), anyString(30), { maxKeys: 3 }),
);

export const methodArb = fc.oneof(
  { weight: 30, arbitrary: fc.constant('POST') },
  fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'post', ''),
  anyString(10),
);

export interface BodyChoice {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
}

/** Bodies that are not forms at all: text, bytes, broken escapes, nothing, huge. */
export const nonFormBodyArb: fc.Arbitrary<BodyChoice> = fc.oneof(
  anyString(200).map((body) => ({ body, isBase64Encoded: false })),
  anyString(200).map((body) => ({ body, isBase64Encoded: true })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({
    body: Buffer.from(bytes).toString('base64'),
    isBase64Encoded: true,
  })),
  percentGarbage.map((body) => ({ body, isBase64Encoded: false })),
  fc
    .tuple(fc.constantFrom('a', '%41', '&x=', 'é'), fc.integer({ min: 1_000, max: 100_000 }))
    .map(([unit, count]) => ({
      body: `grant_type=client_credentials&pad=${unit.repeat(count)}`,
      isBase64Encoded: false,
    })),
  fc.constant({ body: null, isBase64Encoded: false }),
  fc.constant({ body: '', isBase64Encoded: true }),
);

/**
 * Proxy events for a client-authenticated form endpoint at `path`: any method, content type, TLS
 * header, query, extra (even prototype-named) headers, with the given Authorization and body.
 */
export const formEndpointEventArb = (
  path: string,
  authorizationArb: fc.Arbitrary<string | undefined>,
  bodyArb: fc.Arbitrary<BodyChoice>,
): fc.Arbitrary<APIGatewayProxyEvent> =>
  fc
    .record({
      method: methodArb,
      authorization: authorizationArb,
      contentType: contentTypeArb,
      proto: protoArb,
      extra: extraHeadersArb,
      lowerCaseNames: fc.boolean(),
      query: queryArb,
      body: bodyArb,
    })
    .map(({ method, authorization, contentType, proto, extra, lowerCaseNames, query, body }) => {
      const named = (name: string) => (lowerCaseNames ? name.toLowerCase() : name);
      const headers: Record<string, string | undefined> = {
        'Content-Type': undefined,
        'X-Forwarded-Proto': undefined,
        Host: undefined,
        [named('Content-Type')]: contentType,
        [named('X-Forwarded-Proto')]: proto,
        ...(authorization === undefined ? {} : { [named('Authorization')]: authorization }),
      };
      const event = tokenRequest({
        path,
        method,
        headers,
        query,
        body: body.body,
        isBase64Encoded: body.isBase64Encoded,
      });
      // Own properties, whatever the name (`__proto__` included), as JSON.parse builds them from the wire.
      for (const [name, value] of Object.entries(extra)) {
        Object.defineProperty(event.headers, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return event;
    });

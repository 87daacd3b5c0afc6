import { buildJwksLambda } from './jwks-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildJwksLambda(process.env);

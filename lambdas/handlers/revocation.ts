import { buildRevocationLambda } from './revocation-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildRevocationLambda(process.env);

import { buildTokenLambda } from './token-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildTokenLambda(process.env);

import { buildAuthorizerLambda } from './authorizer-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildAuthorizerLambda(process.env);

import { buildAuthorizeLambda } from './authorize-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildAuthorizeLambda(process.env);

import { buildAdminLambda } from './admin-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildAdminLambda(process.env);

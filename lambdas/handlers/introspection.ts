import { buildIntrospectionLambda } from './introspection-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildIntrospectionLambda(process.env);

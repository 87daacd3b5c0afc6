import { buildMetadataLambda } from './metadata-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildMetadataLambda(process.env);

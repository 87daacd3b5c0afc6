import { buildMeLambda } from './me-lambda';

/** Lambda entry for the demo resource. */
export const handler = buildMeLambda(process.env);

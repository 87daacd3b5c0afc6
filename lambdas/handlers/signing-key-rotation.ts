import { buildSigningKeyRotationLambda } from './signing-key-rotation-lambda';

/** Lambda entry: configuration is read and validated once, at cold start. */
export const handler = buildSigningKeyRotationLambda(process.env);

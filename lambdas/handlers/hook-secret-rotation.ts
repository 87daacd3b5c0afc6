import { buildHookSecretRotationLambda } from './hook-secret-rotation-lambda';

/** Lambda entry: Secrets Manager's rotation function for the hook secret. */
export const handler = buildHookSecretRotationLambda(process.env);

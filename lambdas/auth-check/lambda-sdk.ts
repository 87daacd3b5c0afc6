// Imported with `import()`, only where a Lambda hook is configured. Through this bundled module,
// not the package itself: esbuild turns `import()` of a bundled file into a lazy `require` of the
// external SDK, resolved like every other require (the runtime's NODE_PATH included), whereas an
// `import()` of the external package would stay a native ES import, which resolves differently.
export { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

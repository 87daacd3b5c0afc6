'use strict';
// The part of the AWS Lambda Node.js runtime the deployment verification needs, run as a child
// process with the function's environment: resolve `_HANDLER` under LAMBDA_TASK_ROOT exactly as
// the runtime does (module up to the first dot, then a property path; `.js`, `.mjs`, `.cjs`; ESM
// for `.mjs` or a `.js` under `"type": "module"`), run the init once, then one invocation per
// IPC message. Plain CommonJS on purpose: it must run on bare `node`, like the runtime itself.
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const taskRoot = process.env.LAMBDA_TASK_ROOT;
const handlerString = process.env._HANDLER || '';

function runtimeError(errorType, errorMessage) {
  const error = new Error(errorMessage);
  error.name = errorType;
  return error;
}

function packageType(directory) {
  let current = directory;
  for (;;) {
    const file = path.join(current, 'package.json');
    if (fs.existsSync(file)) {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')).type === 'module' ? 'module' : 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    const parent = path.dirname(current);
    if (parent === current || !current.startsWith(taskRoot)) return 'commonjs';
    current = parent;
  }
}

async function loadHandler() {
  const match = /^([^.]*)\.(.*)$/.exec(path.basename(handlerString));
  if (match === null) throw runtimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerString}`);
  const moduleRoot = handlerString.slice(0, handlerString.length - path.basename(handlerString).length);
  const base = path.resolve(taskRoot, moduleRoot, match[1]);
  if (!base.startsWith(taskRoot))
    throw runtimeError('Runtime.MalformedHandlerName', `'${handlerString}' is outside the task root`);
  const extension = ['.js', '.mjs', '.cjs'].find((candidate) => fs.existsSync(base + candidate));
  if (extension === undefined) {
    throw runtimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${path.relative(taskRoot, base)}'`,
    );
  }
  const file = base + extension;
  const esm = extension === '.mjs' || (extension === '.js' && packageType(path.dirname(file)) === 'module');
  let loaded;
  try {
    loaded = esm ? await import(pathToFileURL(file).href) : require(file);
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND')
      throw runtimeError('Runtime.ImportModuleError', `Error: ${error.message.split('\n')[0]}`);
    throw error;
  }
  let handler = loaded;
  for (const part of match[2].split('.')) handler = handler == null ? undefined : handler[part];
  if (typeof handler !== 'function') {
    throw runtimeError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  return handler;
}

const describe = (error) => ({
  errorType: error?.name ? error.name : 'Error',
  errorMessage: error?.message !== undefined ? String(error.message) : String(error),
});

const loading = loadHandler();
loading.catch(() => undefined);
loading.then(
  () => process.send({ type: 'ready' }),
  (error) => process.send({ type: 'init-error', error: describe(error) }),
);

process.on('message', async (message) => {
  const deadline = Date.now() + message.timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: 'verification',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const handler = await loading;
    const result = await handler(message.event, context);
    process.send({ type: 'result', id: message.id, result: result === undefined ? null : result });
  } catch (error) {
    process.send({ type: 'error', id: message.id, error: describe(error) });
  }
});

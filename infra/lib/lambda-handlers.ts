/** The stack's Lambda entry points: one package (lambda-bundle.ts), two handlers. */

/** The module the API function loads, relative to the package root. */
export const lambdaHandlerModule = 'service/src/lambda.ts';
export const lambdaHandler = 'index.handler';
/** The worker waker's module (scale-to-zero deployments), from the same package. */
export const wakerHandlerModule = 'service/src/waker/lambda.ts';
export const wakerHandler = 'waker.handler';

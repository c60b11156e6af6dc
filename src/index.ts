// Library entry point: re-exports only.
export { EicBuildError, isEicBuildError, formatError, type ErrorCode } from './errors.js';
export { redact, registerSecret } from './redact.js';
export { main } from './cli.js';

// The one error type of fn, its codes, and the exit-code table (DESIGN.md "Contracts").

export const ExitCode = {
  OK: 0,
  NO: 1,
  USAGE: 2,
  PROJECT: 3,
  REMOTE: 4,
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Shown in `fn --help` and the README; a test keeps the two in step. */
export const EXIT_CODE_TABLE: readonly (readonly [ExitCode, string])[] = [
  [ExitCode.OK, 'success'],
  [ExitCode.NO, 'the answer is "no": validation errors, stale types, function threw, push rejected or in conflict'],
  [ExitCode.USAGE, 'usage: bad flag or argument'],
  [ExitCode.PROJECT, 'the project cannot be loaded: no app root, unreadable files'],
  [ExitCode.REMOTE, 'remote: network, auth, server error'],
  [ExitCode.INTERNAL, 'internal error (a bug)'],
  [ExitCode.INTERRUPTED, 'interrupted'],
];

const EXIT_BY_CODE = {
  USAGE: ExitCode.USAGE,
  CHECK_FAILED: ExitCode.NO,
  ALREADY_EXISTS: ExitCode.NO,
  NOT_EMPTY: ExitCode.NO,
  CANCELLED: ExitCode.NO,
  APP_INVALID: ExitCode.NO,
  NOT_FOUND: ExitCode.NO,
  CONFLICT: ExitCode.NO,
  NO_APP_ROOT: ExitCode.PROJECT,
  PROJECT_UNREADABLE: ExitCode.PROJECT,
  PROJECT_INVALID: ExitCode.PROJECT,
  WRITE_FAILED: ExitCode.PROJECT,
  REMOTE_UNREACHABLE: ExitCode.REMOTE,
  REMOTE_AUTH: ExitCode.REMOTE,
  REMOTE_ERROR: ExitCode.REMOTE,
  INTERRUPTED: ExitCode.INTERRUPTED,
  INTERNAL: ExitCode.INTERNAL,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof EXIT_BY_CODE;

export class FnError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FnError';
    this.code = code;
    this.hint = options.hint;
  }
  get exitCode(): ExitCode {
    return EXIT_BY_CODE[this.code];
  }
}

export function isFnError(error: unknown): error is FnError {
  return error instanceof FnError;
}

// Errors as App Services shows them to function code: a thrown Error whose message a user can act
// on, with the MongoDB error code where there is one (11000 duplicate key).

export class DataError extends Error {
  readonly code: string | number | undefined;
  constructor(message: string, code?: string | number) {
    super(message);
    this.name = 'MongoDBError';
    this.code = code;
  }
}

export const ErrorCodes = {
  DUPLICATE_KEY: 11000,
  NO_MATCHING_RULE: 'NoMatchingRule',
  NOT_PERMITTED: 'NotPermitted',
  BAD_ARGUMENT: 'BadArgument',
  NOT_SUPPORTED: 'NotSupported',
  UNREACHABLE: 'DataSourceUnreachable',
} as const;

export function badArgument(message: string): DataError {
  return new DataError(message, ErrorCodes.BAD_ARGUMENT);
}

export function duplicateKey(ns: string, id: unknown, describe: (v: unknown) => string): DataError {
  return new DataError(`Duplicate key error collection: ${ns} index: _id_ dup key: { _id: ${describe(id)} }`, ErrorCodes.DUPLICATE_KEY);
}

/** An error from a backend (the driver, the engine, the bridge) as function code should see it. */
export function toDataError(error: unknown): DataError {
  if (error instanceof DataError) return error;
  const e = error as { message?: unknown; code?: unknown; name?: unknown } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof e?.code === 'number' || typeof e?.code === 'string' ? e.code : undefined;
  if (code === 11000 || /^E11000 /.test(message))
    return new DataError(message.replace(/^E11000 duplicate key error/, 'Duplicate key error'), ErrorCodes.DUPLICATE_KEY);
  if (e?.name === 'MongoServerSelectionError') return new DataError(`cannot reach the database: ${message}`, ErrorCodes.UNREACHABLE);
  return new DataError(message, code);
}

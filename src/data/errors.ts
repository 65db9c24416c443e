// Errors as App Services shows them to function code: a thrown Error whose message a user can act
// on, with the MongoDB error code where there is one (11000 duplicate key).

export class DataError extends Error {
  readonly code: string | number | undefined;
  /** The driver's error labels: TransientTransactionError tells withTransaction to run again. */
  readonly errorLabels: string[];
  constructor(message: string, code?: string | number, labels: string[] = []) {
    super(message);
    this.name = 'MongoDBError';
    this.code = code;
    this.errorLabels = labels;
  }

  hasErrorLabel(label: string): boolean {
    return this.errorLabels.includes(label);
  }
}

export const TRANSIENT = 'TransientTransactionError';
export const UNKNOWN_COMMIT = 'UnknownTransactionCommitResult';

/** Another transaction (or a write outside one) changed a document this transaction writes: run it again. */
export function writeConflict(ns: string): DataError {
  return new DataError(
    `WriteConflict error: this operation conflicted with another operation on ${ns}; the transaction was aborted, run it again (withTransaction does)`,
    112,
    [TRANSIENT],
  );
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
  const labels = Array.isArray((error as { errorLabels?: unknown })?.errorLabels)
    ? (error as { errorLabels: unknown[] }).errorLabels.filter((l): l is string => typeof l === 'string')
    : [];
  if (code === 40573 || /only supported on replica sets/.test(message))
    return new DataError(
      `change streams need a replica set (or a sharded cluster) and this MongoDB is a standalone server: ${message}; start it as a one-node replica set (mongod --replSet rs0, then rs.initiate())`,
      ErrorCodes.NOT_SUPPORTED,
    );
  if (code === 20 && /Transaction numbers are only allowed/.test(message))
    return new DataError(
      `transactions need a replica set (or a sharded cluster) and this MongoDB is a standalone server; start it as a one-node replica set (mongod --replSet rs0, then rs.initiate())`,
      ErrorCodes.NOT_SUPPORTED,
    );
  if (code === 11000 || /^E11000 /.test(message))
    return new DataError(message.replace(/^E11000 duplicate key error/, 'Duplicate key error'), ErrorCodes.DUPLICATE_KEY);
  if (e?.name === 'MongoServerSelectionError') return new DataError(`cannot reach the database: ${message}`, ErrorCodes.UNREACHABLE);
  return new DataError(message, code, labels);
}

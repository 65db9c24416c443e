// Secrets: the texts that values with "from_secret" name. fn dev and invoke --local read them from
// .fn/secrets.json; fn serve keeps each app's in its data dir. One file format for both, written
// whole (temp file + rename) with mode 0600: { "secrets": { "<name>": { "value", "updatedAt" } } }.
// A file of the older flat form { "<name>": "<value>" } is read as well. No function here ever
// puts a value into a message.
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FnError } from '../errors.js';
import { writeFileAtomic } from '../manifest/write.js';

export interface SecretRecord {
  value: string;
  updatedAt: string;
}

/** What a list shows: never a value. */
export interface SecretInfo {
  name: string;
  updatedAt: string;
}

/** App Services' rule for secret names: ASCII letters, digits, '_' and '-', at most 64. */
export const SECRET_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** The longest secret value taken, in bytes. */
export const MAX_SECRET_BYTES = 64 * 1024;

export const localSecretsPath = (root: string): string => join(root, '.fn', 'secrets.json');

/** Why a name cannot be a secret's, or undefined. */
export function secretNameProblem(name: string): string | undefined {
  if (SECRET_NAME.test(name)) return undefined;
  const shown = JSON.stringify(name.length > 70 ? name.slice(0, 70) + '…' : name);
  return `${shown} is not a secret name: use 1 to 64 ASCII letters, digits, "_" and "-"`;
}

/** Why a value cannot be a secret's, or undefined (the value itself is never named). */
export function secretValueProblem(value: string): string | undefined {
  if (value === '') return 'the value is empty';
  if (Buffer.byteLength(value) > MAX_SECRET_BYTES) return `the value is longer than ${MAX_SECRET_BYTES} bytes`;
  return undefined;
}

/** A secrets file: read (missing = none), changed, written whole with mode 0600. */
export class SecretsFile {
  constructor(readonly path: string) {}

  /** Name → record. A file that cannot be read is an error naming the file (never its text). */
  read(): Map<string, SecretRecord> {
    const out = new Map<string, SecretRecord>();
    if (!existsSync(this.path)) return out;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      throw new FnError(
        'PROJECT_UNREADABLE',
        `${this.path} ${error instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`}`,
        { hint: 'fix or remove the file, then set the secrets again with fn secrets set <name>' },
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return out;
    const p = parsed as { secrets?: unknown };
    const structured = typeof p.secrets === 'object' && p.secrets !== null && !Array.isArray(p.secrets);
    const source = (structured ? p.secrets : parsed) as Record<string, unknown>;
    let updatedAt = '';
    try {
      updatedAt = statSync(this.path).mtime.toISOString();
    } catch {
      // gone since
    }
    for (const [name, v] of Object.entries(source)) {
      if (typeof v === 'string') out.set(name, { value: v, updatedAt });
      else if (typeof v === 'object' && v !== null && typeof (v as SecretRecord).value === 'string') {
        const r = v as Partial<SecretRecord>;
        out.set(name, { value: r.value!, updatedAt: typeof r.updatedAt === 'string' ? r.updatedAt : updatedAt });
      }
    }
    // Secrets copied in with looser permissions are closed again.
    try {
      if ((statSync(this.path).mode & 0o077) !== 0) chmodSync(this.path, 0o600);
    } catch {
      // read-only or gone: it was read
    }
    return out;
  }

  /** The values by name, for resolving values (an unreadable file gives none). */
  values(): Record<string, string> {
    let records: Map<string, SecretRecord>;
    try {
      records = this.read();
    } catch {
      return {};
    }
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [name, r] of records) out[name] = r.value;
    return out;
  }

  list(): SecretInfo[] {
    return [...this.read()]
      .map(([name, r]) => ({ name, updatedAt: r.updatedAt }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Sets one secret; says whether it was new. */
  set(name: string, value: string, now = new Date()): { created: boolean; updatedAt: string } {
    const records = this.read();
    const created = !records.has(name);
    const updatedAt = now.toISOString();
    records.set(name, { value, updatedAt });
    this.write(records);
    return { created, updatedAt };
  }

  /** Removes one secret; false when there was none of that name. */
  unset(name: string): boolean {
    const records = this.read();
    if (!records.delete(name)) return false;
    this.write(records);
    return true;
  }

  private write(records: Map<string, SecretRecord>): void {
    const secrets: Record<string, SecretRecord> = {};
    for (const [name, r] of [...records].sort(([a], [b]) => (a < b ? -1 : 1))) secrets[name] = r;
    try {
      writeFileAtomic(this.path, JSON.stringify({ secrets }, null, 2) + '\n', { mode: 0o600 });
    } catch (error) {
      throw new FnError('WRITE_FAILED', `${this.path} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
        hint: 'check that the folder is writable',
      });
    }
  }
}

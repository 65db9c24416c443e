// Shared by the end-to-end tests: run the built bin/fn.js the way users do, in temp folders.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa, type Options, type Result } from 'execa';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(repoRoot, 'bin', 'fn.js');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
/** ../shared beside the repository: the corpus and references (read, never copied). */
export const sharedDir = join(repoRoot, '..', 'shared');

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `bin/fn.js ...args` in a process of its own with NO_COLOR, never rejecting. */
export async function fnProcess(args: string[], options: Options & { cwd?: string } = {}): Promise<RunResult> {
  const result = (await execa('node', [bin, ...args], {
    reject: false,
    input: options.input ?? '',
    ...options,
    env: { NO_COLOR: '1', FORCE_COLOR: undefined, CI: '1', ...options.env },
    extendEnv: true,
  })) as Result;
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export interface InProcessOptions {
  cwd?: string;
  /** Standard input (empty by default). */
  input?: string;
  /** Added to the environment; an undefined value removes a variable. */
  env?: Record<string, string | undefined>;
  /** Aborts the command (as SIGINT would) after this long. */
  timeout?: number;
  signal?: AbortSignal;
  /** false keeps the final newline of stdout and stderr (as execa's option of that name). */
  stripFinalNewline?: boolean;
}

type Main = (argv: string[], io: import('../../src/cli.js').Io) => Promise<number>;
let mainPromise: Promise<Main> | undefined;
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** A stream that keeps what is written to it as text. */
class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

/**
 * Runs `fn ...args` in this process through the built CLI's main(argv, io), with NO_COLOR and
 * CI set, and resolves with its exit code and output, as a process of its own would give them
 * (a trailing newline trimmed, as execa does). For what only a real process shows (signals,
 * startup, the bin shim) use fnProcess.
 */
export async function fn(args: string[], options: InProcessOptions = {}): Promise<RunResult> {
  mainPromise ??= import(pathToFileURL(join(repoRoot, 'dist', 'cli.js')).href).then((m: { main: Main }) => m.main);
  const main = await mainPromise;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
  delete env.FORCE_COLOR;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from(options.input === undefined || options.input === '' ? [] : [options.input]);
  const abort = new AbortController();
  const timer = options.timeout === undefined ? undefined : setTimeout(() => abort.abort(), options.timeout);
  const onAbort = () => abort.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const exitCode = await main(args, { stdout, stderr, stdin, env, cwd: options.cwd ?? process.cwd(), signal: abort.signal, version });
    const strip = (text: string) => (options.stripFinalNewline === false ? text : text.replace(/\n$/, ''));
    return { exitCode, stdout: strip(stdout.text), stderr: strip(stderr.text) };
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

const temps: string[] = [];

/** A new empty temp folder, removed by cleanupTemps(). */
export function tempDir(prefix = 'fn-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A temp copy of test/fixtures/<name>. */
export function copyFixture(name: string): string {
  const dir = tempDir(`fn-${name.replace(/\W+/g, '-')}-`);
  cpSync(join(fixturesDir, name), dir, { recursive: true });
  return dir;
}

/** Writes a tree of files ({ 'functions/config.json': '[]' }) into a new temp folder. */
export function makeApp(files: Record<string, string>): string {
  const dir = tempDir('fn-app-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

export function cleanupTemps(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Every file and folder under `dir` (folders end with '/'), with the bytes of each file (base64). */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const full = join(abs, entry.name);
      const rel = relative(dir, full).replace(/\\/g, '/');
      if (entry.isDirectory()) {
        out[rel + '/'] = '';
        walk(full);
      } else out[rel] = readFileSync(full).toString('base64');
    }
  };
  walk(dir);
  return out;
}

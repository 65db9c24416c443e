// Built once in cli.ts and passed down; no module singletons.
import type { Ui } from './ui/ui.js';

export interface Context {
  /** The folder commands resolve paths from (--cwd, default: the process's). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  ui: Ui;
  json: boolean;
  verbose: boolean;
  signal: AbortSignal;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where prompts are written (stderr of the process or of a test). */
  stderr: NodeJS.WritableStream;
  /** True when a prompt may wait for an answer: stdin and stderr are terminals and this is not CI. */
  interactive: boolean;
}

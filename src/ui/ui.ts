// The only code that writes to stdout and stderr. Results go to stdout, everything else to stderr.
import kleur from 'kleur';

export type Palette = typeof kleur;

export interface UiStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface Ui {
  /** Colors for text that is about to be written; stripped per stream when that stream has none. */
  readonly c: Palette;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** A result line (or lines) on stdout. */
  out(text: string): void;
  /** Result bytes on stdout exactly as given (no newline added, no color stripping). */
  write(text: string | Uint8Array): void;
  /** Anything that is not a result, on stderr. */
  err(text: string): void;
  /** One JSON document on stdout: pretty on a TTY, compact otherwise. */
  json(value: unknown): void;
  /** One JSON line on stdout (watch modes). */
  ndjson(value: unknown): void;
  /** One line of JSON text built by the caller, written as ndjson writes its lines. */
  jsonLine(text: string): void;
  /**
   * Runs `write` (a server's call log lines); what it writes to stdout goes out in one write, at
   * once unless lines were written in the last LINES_HOLD_MS and either `busy` (more calls are
   * running) or lines are held already: then it is held until that much time has passed since,
   * so a busy server makes one write per LINES_HOLD_MS instead of one per turn. Any other output,
   * and the end of the process, sends held lines first.
   */
  lines(write: () => void, busy?: boolean): void;

  error(message: string, hint?: string): void;
  warn(message: string): void;
  success(message: string): void;
  info(message: string): void;
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** How late a call log line may be written when a server is busy (see Ui.lines). */
export const LINES_HOLD_MS = 5;

export interface ColorSettings {
  /** false from --no-color */
  flag: boolean;
  env: NodeJS.ProcessEnv;
}

/** Colors follow --no-color, NO_COLOR, FORCE_COLOR, then whether the stream is a TTY. */
export function colorFor(stream: { isTTY?: boolean }, settings: ColorSettings): boolean {
  if (!settings.flag) return false;
  if (settings.env.NO_COLOR !== undefined && settings.env.NO_COLOR !== '') return false;
  const force = settings.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}

export function createUi(streams: UiStreams, settings: ColorSettings): Ui {
  const outColor = colorFor(streams.stdout, settings);
  const errColor = colorFor(streams.stderr, settings);
  kleur.enabled = outColor || errColor;
  let batching = false;
  /** stdout text not written yet: lines being gathered, or held. */
  let pending = '';
  let linesWritten = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let exitHook = false;
  const flush = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending === '') return;
    const text = pending;
    pending = '';
    streams.stdout.write(text);
  };
  const flushLines = () => {
    linesWritten = performance.now();
    flush();
  };
  const toStdout = (text: string) => {
    if (batching) pending += text;
    else if (pending !== '') {
      pending += text;
      flush();
    } else streams.stdout.write(text);
  };
  const toStderr = (text: string) => {
    flush();
    streams.stderr.write(text);
  };
  const stdoutIsTTY = streams.stdout.isTTY === true;
  const c = kleur;
  const ui: Ui = {
    c,
    stdoutIsTTY,
    stderrIsTTY: streams.stderr.isTTY === true,
    out: (text) => toStdout((outColor || !text.includes('\u001b') ? text : text.replace(ANSI, '')) + '\n'),
    err: (text) => toStderr((errColor ? text : text.replace(ANSI, '')) + '\n'),
    write: (text) => {
      flush();
      streams.stdout.write(text);
    },
    lines: (write, busy = false) => {
      if (batching) return write();
      // Lines held already went out late (their answers are sent): what follows them within the
      // hold time joins them, busy or not, so the last calls of a burst do not each cost a write.
      const holding = timer !== undefined;
      batching = true;
      try {
        write();
      } finally {
        batching = false;
        const since = performance.now() - linesWritten;
        if (since >= LINES_HOLD_MS || (!busy && !holding)) flushLines();
        else if (!timer && pending !== '') {
          timer = setTimeout(flushLines, LINES_HOLD_MS - since);
          timer.unref();
          if (!exitHook) {
            exitHook = true;
            process.once('exit', flush);
          }
        }
      }
    },
    json: (value) => toStdout(JSON.stringify(value, null, stdoutIsTTY ? 2 : undefined) + '\n'),
    ndjson: (value) => ui.jsonLine(JSON.stringify(value)),
    jsonLine: (text) => toStdout(text + '\n'),

    error: (message, hint) => {
      ui.err(`${c.red().bold('error')} ${message}`);
      if (hint) ui.err(`${c.dim('hint')} ${hint}`);
    },
    warn: (message) => ui.err(`${c.yellow().bold('warning')} ${message}`),
    success: (message) => ui.err(`${c.green('✔')} ${message}`),
    info: (message) => ui.err(message),
  };
  return ui;
}

// Ui.lines: a server's call log lines are written at once, unless the server is busy (other calls
// running) or lines are held: then gathered into one write per few milliseconds, never out of order
// with other output.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createUi, LINES_HOLD_MS } from '../../../src/ui/ui.js';

function streams() {
  const writes: { stream: 'out' | 'err'; text: string }[] = [];
  const ui = createUi(
    {
      stdout: { write: (text: string) => writes.push({ stream: 'out', text }) } as unknown as NodeJS.WritableStream,
      stderr: { write: (text: string) => writes.push({ stream: 'err', text }) } as unknown as NodeJS.WritableStream,
    },
    { flag: false, env: {} },
  );
  return { ui, writes };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Ui.lines', () => {
  it('writes the lines of one call at once, in one write, when nothing was written just before', () => {
    const { ui, writes } = streams();
    ui.lines(() => {
      ui.ndjson({ n: 1 });
      ui.ndjson({ n: 2 });
    });
    expect(writes).toEqual([{ stream: 'out', text: '{"n":1}\n{"n":2}\n' }]);
  });

  it('writes lines at once, one write after another, while the server is not busy', () => {
    const { ui, writes } = streams();
    for (let n = 1; n <= 3; n++) ui.lines(() => ui.ndjson({ n }), false);
    expect(writes.map((w) => w.text)).toEqual(['{"n":1}\n', '{"n":2}\n', '{"n":3}\n']);
  });

  it('holds lines of a busy server that follow within the hold time, then writes them together, in order', async () => {
    const { ui, writes } = streams();
    ui.lines(() => ui.ndjson({ n: 1 }), true);
    ui.lines(() => ui.ndjson({ n: 2 }), true);
    ui.lines(() => ui.ndjson({ n: 3 }), true);
    expect(writes.map((w) => w.text)).toEqual(['{"n":1}\n']);
    await sleep(LINES_HOLD_MS + 20);
    expect(writes.map((w) => w.text)).toEqual(['{"n":1}\n', '{"n":2}\n{"n":3}\n']);
    // Quiet again: the next line goes out at once.
    await sleep(LINES_HOLD_MS + 5);
    ui.lines(() => ui.ndjson({ n: 4 }), true);
    expect(writes.map((w) => w.text)).toEqual(['{"n":1}\n', '{"n":2}\n{"n":3}\n', '{"n":4}\n']);
  });

  it('holds a line with the lines held before it, even when no other call is running', async () => {
    const { ui, writes } = streams();
    ui.lines(() => ui.ndjson({ n: 1 }), true);
    ui.lines(() => ui.ndjson({ n: 2 }), true);
    // The last call of a burst: nothing else runs, but lines are held.
    ui.lines(() => ui.ndjson({ n: 3 }), false);
    expect(writes.map((w) => w.text)).toEqual(['{"n":1}\n']);
    await sleep(LINES_HOLD_MS + 20);
    expect(writes.map((w) => w.text)).toEqual(['{"n":1}\n', '{"n":2}\n{"n":3}\n']);
    // Nothing held: a call alone is written at once again, even right after a write.
    ui.lines(() => ui.ndjson({ n: 4 }), false);
    expect(writes.map((w) => w.text)).toEqual(['{"n":1}\n', '{"n":2}\n{"n":3}\n', '{"n":4}\n']);
  });

  it('writes held lines before any other output', () => {
    const { ui, writes } = streams();
    ui.lines(() => ui.ndjson({ n: 1 }), true);
    ui.lines(() => ui.ndjson({ n: 2 }), true);
    ui.err('stopping');
    ui.out('stopped');
    expect(writes).toEqual([
      { stream: 'out', text: '{"n":1}\n' },
      { stream: 'out', text: '{"n":2}\n' },
      { stream: 'err', text: 'stopping\n' },
      { stream: 'out', text: 'stopped\n' },
    ]);
  });

  it('writes held lines when the process ends', () => {
    // The built module, in a process of its own that exits while lines are held.
    const ui = new URL('../../../dist/ui/ui.js', import.meta.url).href;
    const script = `const { createUi } = await import(${JSON.stringify(ui)});
const ui = createUi({ stdout: process.stdout, stderr: process.stderr }, { flag: false, env: {} });
for (let n = 1; n <= 3; n++) ui.lines(() => ui.ndjson({ n }), true);
process.exit(0);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });
});

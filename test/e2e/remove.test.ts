// fn remove, end to end against the built CLI: the entry and the source file go, folders left
// empty go, every other byte of the manifest stays; and, over every real manifest of the corpus,
// fn add then fn remove is a byte-exact round trip.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseTree, type Node } from 'jsonc-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atlasDir, eachLimited, materialise, readCorpusApp, STUB, type CorpusApp } from './corpus-apps.js';
import { bin, cleanupTemps, copyFixture, fn, makeApp, tempDir, type RunResult, tree } from './helpers.js';

afterAll(cleanupTemps);

async function expectClean(cwd: string): Promise<void> {
  const r = await fn(['validate', '--strict', '--json'], { cwd });
  expect((JSON.parse(r.stdout) as { diagnostics: unknown[] }).diagnostics).toEqual([]);
  expect(r.exitCode).toBe(0);
}

const manifestOf = (app: string) => readFileSync(join(app, 'functions', 'config.json'), 'utf8');

describe('fn remove <name>', () => {
  it('removes the entry and the source file; fn validate finds nothing', async () => {
    const app = copyFixture('scaffold/app');
    const r = await fn(['remove', 'hello'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('✔ removed hello: its entry and functions/hello.js');
    expect(existsSync(join(app, 'functions', 'hello.js'))).toBe(false);
    // The first entry goes with its comma; the rest of the file is as it was.
    expect(manifestOf(app)).toBe(
      '[\n    {\n        "name": "orders/list",\n        "private": true\n    },\n    {\n        "name": "orders/create",\n        "disable_arg_logs": true,\n        "run_as_system": true\n    }\n]\n',
    );
    await expectClean(app);
  });

  it('a middle entry: only its text and one comma go', async () => {
    const app = copyFixture('scaffold/app');
    const r = await fn(['remove', 'orders/list'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(manifestOf(app)).toBe(
      '[\n    {\n        "name": "hello"\n    },\n    {\n        "name": "orders/create",\n        "disable_arg_logs": true,\n        "run_as_system": true\n    }\n]\n',
    );
    // orders/ still holds create.js, so it stays.
    expect(readdirSync(join(app, 'functions', 'orders'))).toEqual(['create.js']);
    await expectClean(app);
  });

  it('removes the folders left empty, up to functions/ and not beyond', async () => {
    const app = copyFixture('scaffold/app');
    await fn(['remove', 'orders/list'], { cwd: app });
    const r = await fn(['remove', 'orders/create', '--json'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      name: 'orders/create',
      entriesRemoved: 1,
      removed: ['functions/orders/create.js', 'functions/orders/'],
      kept: [],
      warnings: [],
    });
    expect(existsSync(join(app, 'functions', 'orders'))).toBe(false);
    // The last function of all: functions/ itself stays, with its manifest.
    const last = await fn(['remove', 'hello'], { cwd: app });
    expect(last.exitCode).toBe(0);
    expect(readdirSync(join(app, 'functions'))).toEqual(['config.json']);
    expect(JSON.parse(manifestOf(app))).toEqual([]);
    await expectClean(app);
  });

  it('several levels of empty folders go; a folder holding anything else stays', async () => {
    const app = makeApp({
      'functions/config.json': '[\n  { "name": "a/b/c/deep" },\n  { "name": "docs/x/only" }\n]\n',
      'functions/a/b/c/deep.js': STUB,
      'functions/docs/x/only.js': STUB,
      'functions/docs/README.md': 'keep me\n',
    });
    const deep = await fn(['remove', 'a/b/c/deep', '--json'], { cwd: app });
    expect(JSON.parse(deep.stdout).removed).toEqual(['functions/a/b/c/deep.js', 'functions/a/b/c/', 'functions/a/b/', 'functions/a/']);
    const docs = await fn(['remove', 'docs/x/only', '--json'], { cwd: app });
    expect(JSON.parse(docs.stdout).removed).toEqual(['functions/docs/x/only.js', 'functions/docs/x/']);
    expect(tree(join(app, 'functions'))).toEqual({
      'config.json': Buffer.from('[]\n').toString('base64'),
      'docs/': '',
      'docs/README.md': Buffer.from('keep me\n').toString('base64'),
    });
  });

  it('--keep-source keeps the file (and its folder)', async () => {
    const app = copyFixture('scaffold/app');
    const source = readFileSync(join(app, 'functions', 'orders', 'list.js'));
    const r = await fn(['remove', 'orders/list', '--keep-source'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('✔ removed orders/list: its entry\n  kept functions/orders/list.js (--keep-source)');
    // The kept file is still a function: App Services deploys it public, with the defaults.
    expect(r.stderr).toBe(
      'warning functions/orders/list.js is still a function: with no entry, fn push deploys it as a public function with the defaults (any caller may call it; it runs as the caller); it was private. Remove the file too, or move it out of functions/, to keep it from being deployed',
    );
    expect(readFileSync(join(app, 'functions', 'orders', 'list.js'))).toEqual(source);
    expect((JSON.parse(manifestOf(app)) as { name: string }[]).map((e) => e.name)).toEqual(['hello', 'orders/create']);
    const json = await fn(['remove', 'hello', '--keep-source', '--json'], { cwd: app });
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      name: 'hello',
      entriesRemoved: 1,
      removed: [],
      kept: ['functions/hello.js'],
      warnings: [
        expect.stringMatching(
          /^functions\/hello\.js is still a function: with no entry, fn push deploys it as a public function with the defaults \(any caller may call it; it runs as the caller\)\. Remove/,
        ),
      ],
    });
    const system = await fn(['remove', 'orders/create', '--keep-source'], { cwd: app });
    expect(system.stderr).toContain('; it was run as system.');
  });

  it('rm is the same command', async () => {
    const app = copyFixture('scaffold/app');
    const r = await fn(['rm', 'hello', '--json'], { cwd: app });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, name: 'hello', entriesRemoved: 1 });
  });

  it('an entry without a source: the entry goes', async () => {
    const app = makeApp({
      'functions/config.json': '[\n    {\n        "name": "ghost"\n    },\n    {\n        "name": "real"\n    }\n]\n',
      'functions/real.js': STUB,
    });
    const r = await fn(['remove', 'ghost', '--json'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, name: 'ghost', entriesRemoved: 1, removed: [], kept: [], warnings: [] });
    expect(manifestOf(app)).toBe('[\n    {\n        "name": "real"\n    }\n]\n');
    await expectClean(app);
  });

  it('a source without an entry (an orphan): the file goes, the manifest is not touched', async () => {
    const manifest = '[\n\t{ "name": "real" }\n]';
    const app = makeApp({ 'functions/config.json': manifest, 'functions/real.js': STUB, 'functions/stray/orphan.js': STUB });
    const r = await fn(['remove', 'stray/orphan', '--json'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      name: 'stray/orphan',
      entriesRemoved: 0,
      removed: ['functions/stray/orphan.js', 'functions/stray/'],
      kept: [],
      warnings: [],
    });
    expect(manifestOf(app)).toBe(manifest);
    await expectClean(app);
  });

  it('a name entered twice: both entries go', async () => {
    const app = makeApp({
      'functions/config.json': '[\n  { "name": "dup" },\n  { "name": "keep" },\n  { "name": "dup", "private": true }\n]\n',
      'functions/dup.js': STUB,
      'functions/keep.js': STUB,
    });
    const r = await fn(['remove', 'dup'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('✔ removed dup: its entry (2 of them) and functions/dup.js');
    expect(manifestOf(app)).toBe('[\n  { "name": "keep" }\n]\n');
    await expectClean(app);
  });
});

describe('fn remove refuses a name that is not there', () => {
  it('exit 1, with the nearest names as suggestions; nothing changes', async () => {
    const app = copyFixture('scaffold/app');
    const before = tree(app);
    const r = await fn(['remove', 'orders/lst'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error there is no function "orders/lst"\nhint did you mean "orders/list"?');
    const two = await fn(['remove', 'orders/creat'], { cwd: app });
    expect(two.stderr).toContain('did you mean "orders/create"');
    const json = await fn(['remove', 'helo', '--json'], { cwd: app });
    expect(json.exitCode).toBe(1);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'there is no function "helo"', hint: 'did you mean "hello"?' },
    });
    expect(tree(app)).toEqual(before);
  });

  it('suggests orphan sources too', async () => {
    const app = copyFixture('scaffold/app');
    writeFileSync(join(app, 'functions', 'cleanup.js'), STUB);
    const r = await fn(['remove', 'clenup'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('did you mean "cleanup"?');
  });

  it('with nothing near, says where to look', async () => {
    const app = copyFixture('scaffold/app');
    const r = await fn(['remove', 'zzzzzzzzzzzz'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toContain('did you mean');
    expect(r.stderr).toContain('hint fn list lists the functions');
  });

  it('no app here: exit 3', async () => {
    const r = await fn(['remove', 'x'], { cwd: tempDir() });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
  });

  it('a manifest that is not JSON: exit 1, left as it was (the source too)', async () => {
    const app = makeApp({ 'functions/config.json': '[\n  { "name": "a" } // mine\n]\n', 'functions/a.js': STUB });
    const before = tree(app);
    const r = await fn(['remove', 'a'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('functions/config.json cannot be edited');
    expect(tree(app)).toEqual(before);
  });
});

describe('fn remove keeps the rest of the manifest byte for byte', () => {
  it.each([
    [
      'tabs, no final newline',
      '[\n\t{\n\t\t"name": "a"\n\t},\n\t{\n\t\t"name": "b"\n\t},\n\t{\n\t\t"name": "c"\n\t}\n]',
      'b',
      '[\n\t{\n\t\t"name": "a"\n\t},\n\t{\n\t\t"name": "c"\n\t}\n]',
    ],
    [
      'CRLF, first',
      '[\r\n    {\r\n        "name": "a"\r\n    },\r\n    {\r\n        "name": "b"\r\n    }\r\n]\r\n',
      'a',
      '[\r\n    {\r\n        "name": "b"\r\n    }\r\n]\r\n',
    ],
    [
      'CRLF, last',
      '[\r\n    {\r\n        "name": "a"\r\n    },\r\n    {\r\n        "name": "b"\r\n    }\r\n]\r\n',
      'b',
      '[\r\n    {\r\n        "name": "a"\r\n    }\r\n]\r\n',
    ],
    [
      '2 spaces, key order and an unknown field',
      '[\n  {\n    "private": true,\n    "name": "a",\n    "x-note": "keep"\n  },\n  {\n    "name": "b"\n  }\n]\n',
      'b',
      '[\n  {\n    "private": true,\n    "name": "a",\n    "x-note": "keep"\n  }\n]\n',
    ],
    [
      'a BOM',
      '\uFEFF[\n    {\n        "name": "a"\n    },\n    {\n        "name": "b"\n    }\n]\n',
      'a',
      '\uFEFF[\n    {\n        "name": "b"\n    }\n]\n',
    ],
    ['the only entry', '[\n    {\n        "name": "a"\n    }\n]\n', 'a', '[]\n'],
  ])('%s', async (_, text, name, expected) => {
    const app = makeApp({ 'functions/config.json': text, 'functions/a.js': STUB, 'functions/b.js': STUB, 'functions/c.js': STUB });
    const r = await fn(['remove', name], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(manifestOf(app)).toBe(expected);
  });

  it('writes by replacing the file: a new inode, no temp file left', async () => {
    const app = copyFixture('scaffold/app');
    const { ino } = statSync(join(app, 'functions', 'config.json'));
    expect((await fn(['remove', 'hello'], { cwd: app })).exitCode).toBe(0);
    const after = statSync(join(app, 'functions', 'config.json'));
    expect(after.ino).not.toBe(ino);
    expect(readdirSync(join(app, 'functions')).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

// A failure half-way, as in add.test.ts: a file-size limit makes the manifest write fail, for root too.
describe.skipIf(process.platform === 'win32')('fn remove: a failure half-way leaves the app as it was', () => {
  function bigApp(): string {
    const entries = Array.from({ length: 40 }, (_, i) => ({
      name: `fn${String(i).padStart(2, '0')}`,
      private: false,
      run_as_system: true,
    }));
    const files: Record<string, string> = { 'functions/config.json': JSON.stringify(entries, null, 4) + '\n' };
    for (const e of entries) files[`functions/${e.name}.js`] = STUB;
    return makeApp(files);
  }
  const limited = async (args: string[], cwd: string) => {
    const r = await execa('sh', ['-c', 'ulimit -f 1 && exec node "$0" "$@"', bin, ...args], {
      cwd,
      reject: false,
      env: { NO_COLOR: '1', CI: '1' },
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  it('the manifest cannot be written: the entry and the source file both stay', async () => {
    const app = bigApp();
    const before = tree(app);
    const r = await limited(['remove', 'fn07'], app);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('EFBIG');
    expect(tree(app)).toEqual(before);
  });

  it('... and it is reported as an error, not as an internal one', async () => {
    const app = bigApp();
    const r = await limited(['remove', 'fn07', '--json'], app);
    expect(r.exitCode).not.toBe(70);
    expect(JSON.parse(r.stdout).error.code).not.toBe('INTERNAL');
  });
});

// ---------------------------------------------------------------------------------------------
// The corpus: every real manifest that is a JSON array, rebuilt with a stub per .js in files.txt.
// fn add zz_new_fn inserts one entry after the last one and changes no other byte; fn remove
// zz_new_fn then gives back the original bytes, and the app as it was.

const NEW = 'zz_new_fn';

function isArrayManifest(app: CorpusApp): boolean {
  try {
    return Array.isArray(JSON.parse(app.text.replace(/^\uFEFF/, '')));
  } catch {
    return false;
  }
}

interface RoundTrip {
  before: Record<string, string>;
  add: RunResult;
  added: Buffer;
  sourceAfterAdd: string | undefined;
  remove: RunResult;
  removed: Buffer;
  after: Record<string, string>;
}

const corpus = readdirSync(atlasDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => readCorpusApp(d.name))
  .filter(isArrayManifest)
  .sort((a, b) => (a.id < b.id ? -1 : 1));
const trips = new Map<string, RoundTrip>();

/** The whitespace before `offset` on its line, when nothing else precedes it there. */
function indentAt(text: string, offset: number): string | undefined {
  let i = offset;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  return i === 0 || text[i - 1] === '\n' ? text.slice(i, offset) : undefined;
}

describe('fn add then fn remove on every manifest of the corpus', () => {
  beforeAll(async () => {
    await eachLimited(corpus, 4, async (app) => {
      const root = materialise(app, 'fn-corpus-rt-');
      const manifest = join(root, 'functions', 'config.json');
      const before = tree(root);
      const add = await fn(['add', NEW, '--json'], { cwd: root });
      const added = readFileSync(manifest);
      const sourcePath = join(root, 'functions', `${NEW}.js`);
      const sourceAfterAdd = existsSync(sourcePath) ? readFileSync(sourcePath, 'utf8') : undefined;
      const remove = await fn(['remove', NEW, '--json'], { cwd: root });
      trips.set(app.id, { before, add, added, sourceAfterAdd, remove, removed: readFileSync(manifest), after: tree(root) });
    });
  }, 180_000);

  it('covers the corpus, odd cases included', () => {
    // 157 manifests, one of them not JSON.
    expect(corpus).toHaveLength(156);
    expect(corpus.filter((a) => a.text.includes('\r\n')).length).toBe(1);
    expect(corpus.filter((a) => !a.text.endsWith('\n')).length).toBe(4);
    expect(corpus.filter((a) => a.text.trim() === '[]').length).toBeGreaterThan(0);
    // Entries indented by 2 spaces as well as by 4.
    expect(corpus.some((a) => /^ {2}\{/m.test(a.text))).toBe(true);
    expect(corpus.some((a) => /^ {4}\{/m.test(a.text))).toBe(true);
  });

  it.each(corpus.map((a) => a.id))('%s', (id) => {
    const app = corpus.find((a) => a.id === id)!;
    const trip = trips.get(id)!;
    const original = app.bytes.toString('utf8');

    // fn add: one JSON document, the source created from the template.
    expect(trip.add.exitCode, trip.add.stdout + trip.add.stderr).toBe(0);
    expect(trip.add.stderr).toBe('');
    expect(JSON.parse(trip.add.stdout)).toMatchObject({ ok: true, name: NEW, entry: { name: NEW }, sourceCreated: true });
    expect(trip.sourceAfterAdd).toContain('exports =');

    // The added manifest is the original with one insertion, right after the last entry (or
    // inside the empty array), and nothing else changed.
    const added = trip.added.toString('utf8');
    const bom = original.startsWith('\uFEFF') ? '\uFEFF' : '';
    const text = original.slice(bom.length);
    const root = parseTree(text) as Node;
    expect(root.type).toBe('array');
    const last = root.children?.at(-1);
    const at = bom.length + (last ? last.offset + last.length : root.offset + 1);
    const prefix = original.slice(0, at);
    const suffix = original.slice(at);
    expect(added.startsWith(prefix), 'the text before the insertion point is unchanged').toBe(true);
    expect(added.endsWith(suffix), 'the text after the insertion point is unchanged').toBe(true);
    expect(added.length).toBeGreaterThan(original.length);
    const inserted = added.slice(prefix.length, added.length - suffix.length);
    expect(JSON.parse(added.slice(bom.length))).toEqual([...(JSON.parse(text) as unknown[]), { name: NEW }]);
    // The insertion is written in the file's own line endings and, after an entry that starts its
    // own line, at that entry's indentation.
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    for (const lineBreak of inserted.match(/\r\n|\r|\n/g) ?? []) expect(lineBreak, JSON.stringify(inserted)).toBe(eol);
    if (last) {
      expect(inserted.startsWith(',')).toBe(true);
      const indent = indentAt(text, last.offset);
      if (indent !== undefined) expect(inserted.startsWith(`,${eol}${indent}{`), JSON.stringify(inserted)).toBe(true);
    }

    // fn remove: the original bytes, and the app as it was before fn add.
    expect(trip.remove.exitCode, trip.remove.stdout + trip.remove.stderr).toBe(0);
    expect(trip.remove.stderr).toBe('');
    expect(JSON.parse(trip.remove.stdout)).toMatchObject({ ok: true, name: NEW, entriesRemoved: 1, removed: [`functions/${NEW}.js`] });
    expect(trip.removed.equals(app.bytes), 'fn remove gives back the original bytes').toBe(true);
    expect(trip.after).toEqual(trip.before);
  });
});

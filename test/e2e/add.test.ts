// fn add, end to end against the built CLI: the source file and the manifest entry in one step,
// checked with fn validate's own rules before anything is written; the manifest edit inserts the
// entry and leaves every other byte as it was; a failure half-way leaves the app as it was.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, cleanupTemps, copyFixture, fn, makeApp, tree } from './helpers.js';

afterAll(cleanupTemps);

interface Finding {
  rule: string;
  message: string;
  hint?: string;
  file: string;
}

async function findings(cwd: string): Promise<{ exitCode: number; diagnostics: Finding[] }> {
  const r = await fn(['validate', '--strict', '--json'], { cwd });
  return { exitCode: r.exitCode, diagnostics: (JSON.parse(r.stdout) as { diagnostics: Finding[] }).diagnostics };
}

/** Passes when fn validate --strict finds nothing in the app. */
async function expectClean(cwd: string): Promise<void> {
  const v = await findings(cwd);
  expect(v.diagnostics).toEqual([]);
  expect(v.exitCode).toBe(0);
}

const manifestOf = (app: string) => readFileSync(join(app, 'functions', 'config.json'), 'utf8');
const entriesOf = (app: string) => JSON.parse(manifestOf(app).replace(/^\uFEFF/, '')) as Record<string, unknown>[];

const FIXTURE_ENTRIES = [
  { name: 'hello' },
  { name: 'orders/list', private: true },
  { name: 'orders/create', disable_arg_logs: true, run_as_system: true },
];
const OWNER_SCRIPT = 'exports = function () {\n  return "5f1e2b3c4d5e6f7a8b9c0d1e";\n};\n';

describe('fn add <name>', () => {
  it('creates functions/<name>.js from the template and appends the entry; fn validate finds nothing', async () => {
    const app = copyFixture('scaffold/app');
    const before = manifestOf(app);
    const r = await fn(['add', 'calculateTotal'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('✔ added calculateTotal: created functions/calculateTotal.js and its entry in functions/config.json');
    const source = readFileSync(join(app, 'functions', 'calculateTotal.js'), 'utf8');
    expect(source).toMatch(/^exports = (async )?function/m);
    expect(source).toContain('calculateTotal');
    expect(entriesOf(app)).toEqual([...FIXTURE_ENTRIES, { name: 'calculateTotal' }]);
    // Only the new entry is new: the file up to the last entry and after it is as it was.
    const after = manifestOf(app);
    const end = before.lastIndexOf('}') + 1;
    expect(after.startsWith(before.slice(0, end))).toBe(true);
    expect(after.endsWith(before.slice(end))).toBe(true);
    expect(after.slice(end, after.length - (before.length - end))).toBe(',\n    {\n        "name": "calculateTotal"\n    }');
    await expectClean(app);
  });

  it('a nested name creates the folders', async () => {
    const app = copyFixture('scaffold/app');
    const r = await fn(['add', 'reports/2024/monthly'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(statSync(join(app, 'functions', 'reports', '2024', 'monthly.js')).isFile()).toBe(true);
    expect(entriesOf(app).at(-1)).toEqual({ name: 'reports/2024/monthly' });
    await expectClean(app);
  });

  it('works from a folder inside the app, and with a custom functionsDir', async () => {
    const app = makeApp({
      'fn.config.json': '{ "appId": "x", "functionsDir": "backend/fns" }\n',
      'backend/fns/config.json': '[]\n',
      'backend/notes.md': 'notes\n',
    });
    const r = await fn(['add', 'ping', '--json'], { cwd: join(app, 'backend') });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'fns/ping.js', manifest: 'fns/config.json' });
    expect(existsSync(join(app, 'backend', 'fns', 'ping.js'))).toBe(true);
    expect(existsSync(join(app, 'functions'))).toBe(false);
    expect(JSON.parse(readFileSync(join(app, 'backend', 'fns', 'config.json'), 'utf8'))).toEqual([{ name: 'ping' }]);
    await expectClean(app);
  });

  it('--json prints one document', async () => {
    const app = copyFixture('scaffold/app');
    const r = await fn(['add', 'jobs/nightly', '--private', '--json'], { cwd: app });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      name: 'jobs/nightly',
      entry: { name: 'jobs/nightly', private: true },
      source: 'functions/jobs/nightly.js',
      sourceCreated: true,
      manifest: 'functions/config.json',
    });
  });
});

describe('fn add: a flag for every manifest field; the entry holds only the non-default ones', () => {
  it.each([
    [['--private'], { private: true }],
    [['--can-evaluate', '{"%%user.type": "server"}'], { can_evaluate: { '%%user.type': 'server' } }],
    [['--can-evaluate', 'false'], { can_evaluate: false }],
    [['--disable-arg-logs'], { disable_arg_logs: true }],
    [['--run-as-system'], { run_as_system: true }],
    [['--run-as-user', '5f1e2b3c4d5e6f7a8b9c0d1e'], { run_as_user_id: '5f1e2b3c4d5e6f7a8b9c0d1e' }],
    [['--run-as-script', 'scripts/run-as-owner.js'], { run_as_user_id_script_source: OWNER_SCRIPT }],
    // Values equal to the defaults are not written.
    [['--can-evaluate', '{}'], {}],
    [['--run-as-user', ''], {}],
    [[], {}],
  ])('%j', async (flags, fields) => {
    const app = copyFixture('scaffold/app');
    const r = await fn(['add', 'fresh', ...flags, '--json'], { cwd: app });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).entry).toEqual({ name: 'fresh', ...fields });
    expect(entriesOf(app).at(-1)).toEqual({ name: 'fresh', ...fields });
    await expectClean(app);
  });

  it('all of them at once, in the order of the schema', async () => {
    const app = copyFixture('scaffold/app');
    const r = await fn(
      ['add', 'reports/monthly', '--disable-arg-logs', '--run-as-system', '--can-evaluate', '{"%%user.type": "server"}', '--private'],
      { cwd: app },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const after = manifestOf(app);
    expect(
      after.endsWith(
        [
          '    },',
          '    {',
          '        "name": "reports/monthly",',
          '        "private": true,',
          '        "can_evaluate": {',
          '            "%%user.type": "server"',
          '        },',
          '        "disable_arg_logs": true,',
          '        "run_as_system": true',
          '    }',
          ']',
          '',
        ].join('\n'),
      ),
    ).toBe(true);
    await expectClean(app);
  });

  it('--run-as-script stores the file as read, with LF line endings and without a BOM', async () => {
    const app = copyFixture('scaffold/app');
    writeFileSync(join(app, 'owner-crlf.js'), '\uFEFFexports = function () {\r\n  return "abc";\r\n};\r\n');
    const r = await fn(['add', 'fresh', '--run-as-script', 'owner-crlf.js'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(entriesOf(app).at(-1)).toEqual({
      name: 'fresh',
      run_as_user_id_script_source: 'exports = function () {\n  return "abc";\n};\n',
    });
    await expectClean(app);
  });
});

// ---------------------------------------------------------------------------------------------
// Refusals: checked with the rules fn validate uses, before anything is written.

/** The finding fn validate gives for `entry` in an app of its own. */
async function validateFinding(entry: Record<string, unknown>, rule: string): Promise<Finding> {
  const files: Record<string, string> = { 'functions/config.json': JSON.stringify([entry], null, 4) + '\n' };
  const name = entry.name as string;
  if (!name.includes('..') && !name.includes('\\') && !name.includes('//')) files[`functions/${name}.js`] = 'exports = function () {};\n';
  const { diagnostics } = await findings(makeApp(files));
  const found = diagnostics.find((d) => d.rule === rule);
  if (!found) throw new Error(`fn validate gives no ${rule} for ${JSON.stringify(entry)}: ${JSON.stringify(diagnostics)}`);
  return found;
}

describe('fn add refuses what fn validate would report, with the same rule and message, and writes nothing', () => {
  const cases: [string, string[], Record<string, unknown>, string][] = [
    ['an empty segment', ['a//b'], { name: 'a//b' }, 'invalid-name'],
    ['a step out of functions/', ['../outside'], { name: '../outside' }, 'invalid-name'],
    ['a leading /', ['/abs'], { name: '/abs' }, 'invalid-name'],
    ['a backslash', ['a\\b'], { name: 'a\\b' }, 'invalid-name'],
    ['a name with the extension', ['hello2.js'], { name: 'hello2.js' }, 'name-not-portable'],
    ['a space in the name', ['my fn'], { name: 'my fn' }, 'name-not-portable'],
    [
      '--run-as-user with --run-as-script',
      ['x', '--run-as-user', 'u1', '--run-as-script', 'scripts/run-as-owner.js'],
      { name: 'x', run_as_user_id: 'u1', run_as_user_id_script_source: OWNER_SCRIPT },
      'run-as-conflict',
    ],
    [
      '--run-as-system with --run-as-user',
      ['x', '--run-as-system', '--run-as-user', 'u1'],
      { name: 'x', run_as_system: true, run_as_user_id: 'u1' },
      'run-as-system-override',
    ],
    [
      '--run-as-system with --run-as-script',
      ['x', '--run-as-system', '--run-as-script', 'scripts/run-as-owner.js'],
      { name: 'x', run_as_system: true, run_as_user_id_script_source: OWNER_SCRIPT },
      'run-as-system-override',
    ],
    ['an unknown operator', ['x', '--can-evaluate', '{"$frob": 1}'], { name: 'x', can_evaluate: { $frob: 1 } }, 'invalid-expression'],
    [
      'a misspelt nested operator',
      ['x', '--can-evaluate', '{"%%user.type": {"$nope": "server"}}'],
      { name: 'x', can_evaluate: { '%%user.type': { $nope: 'server' } } },
      'invalid-expression',
    ],
  ];

  it.each(cases)('%s: exit 2', async (_, args, entry, rule) => {
    const app = copyFixture('scaffold/app');
    const before = tree(app);
    const expected = await validateFinding(entry, rule);
    const text = await fn(['add', ...args], { cwd: app });
    expect(text.exitCode).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr.split('\n')[0]).toBe(`error ${rule}: ${expected.message}`);
    if (expected.hint) expect(text.stderr).toContain(`hint ${expected.hint}`);
    const json = await fn(['add', ...args, '--json'], { cwd: app });
    expect(json.exitCode).toBe(2);
    expect(json.stderr).toBe('');
    const doc = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; message: string; hint?: string } };
    expect(doc).toMatchObject({ ok: false, error: { code: 'USAGE', message: `${rule}: ${expected.message}` } });
    if (expected.hint) expect(doc.error.hint!.startsWith(expected.hint)).toBe(true);
    expect(tree(app)).toEqual(before);
  });

  it('a --run-as-script that does not parse: exit 2, script-syntax', async () => {
    const app = copyFixture('scaffold/app');
    writeFileSync(join(app, 'broken.js'), 'exports = function ( {\n');
    const before = tree(app);
    const r = await fn(['add', 'x', '--run-as-script', 'broken.js'], { cwd: app });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^error script-syntax: "run_as_user_id_script_source" of "x" does not parse/);
    expect(tree(app)).toEqual(before);
  });

  it.each([
    ['{bad', '--can-evaluate is not JSON'],
    ["{'%%user.type': 'server'}", '--can-evaluate is not JSON'],
    ['[1]', '"can_evaluate" must be an object or true or false'],
    ['"server"', '"can_evaluate" must be an object or true or false'],
    ['null', '"can_evaluate" must be an object or true or false'],
  ])('--can-evaluate %s: exit 2', async (value, message) => {
    const app = copyFixture('scaffold/app');
    const before = tree(app);
    const r = await fn(['add', 'x', '--can-evaluate', value], { cwd: app });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(tree(app)).toEqual(before);
  });

  it.each([
    ['missing.js', 'cannot be read: ENOENT'],
    ['empty.js', 'is empty'],
  ])('--run-as-script %s: exit 2', async (file, message) => {
    const app = copyFixture('scaffold/app');
    writeFileSync(join(app, 'empty.js'), '  \n');
    const before = tree(app);
    const r = await fn(['add', 'x', '--run-as-script', file], { cwd: app });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`--run-as-script ${file} ${message}`);
    expect(tree(app)).toEqual(before);
  });

  it('an existing function: exit 1, also when it differs only in case', async () => {
    const app = copyFixture('scaffold/app');
    const before = tree(app);
    const same = await fn(['add', 'orders/list', '--private'], { cwd: app });
    expect(same.exitCode).toBe(1);
    expect(same.stdout).toBe('');
    expect(same.stderr).toBe(
      'error function "orders/list" already exists\nhint edit functions/orders/list.js, or fn remove orders/list first',
    );
    const cased = await fn(['add', 'Orders/List', '--json'], { cwd: app });
    expect(cased.exitCode).toBe(1);
    expect(JSON.parse(cased.stdout)).toMatchObject({
      ok: false,
      error: { code: 'ALREADY_EXISTS', message: 'function "orders/list" already exists and differs only in case' },
    });
    expect(tree(app)).toEqual(before);
  });

  it('no app here: exit 3', async () => {
    const dir = makeApp({ 'readme.md': 'x\n' });
    const r = await fn(['add', 'x'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual(['readme.md']);
  });

  it.each([
    ['not JSON', '[\n  { "name": "a" },\n]\n', 'trailing commas are not allowed in JSON'],
    ['not an array', '{ "name": "a" }\n', 'the manifest must be a JSON array'],
  ])('a manifest that is %s: exit 1, left as it was', async (_, text, reason) => {
    const app = makeApp({ 'functions/config.json': text, 'functions/a.js': 'exports = function () {};\n' });
    const before = tree(app);
    const r = await fn(['add', 'x'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('functions/config.json cannot be edited');
    expect(r.stderr).toContain(reason);
    expect(tree(app)).toEqual(before);
  });

  it('a name inside node_modules/ is refused, since fn validate would not find its source', async () => {
    const app = copyFixture('scaffold/app');
    const before = tree(app);
    const r = await fn(['add', 'node_modules/helper'], { cwd: app });
    expect([1, 2]).toContain(r.exitCode);
    expect(tree(app)).toEqual(before);
    await expectClean(app);
  });

  it('a name whose folder is a file: refused (not an internal error), nothing written', async () => {
    const app = copyFixture('scaffold/app');
    writeFileSync(join(app, 'functions', 'plain'), 'not a folder\n');
    const before = tree(app);
    const r = await fn(['add', 'plain/fn'], { cwd: app });
    expect(r.stderr).not.toContain('internal error');
    expect(r.exitCode).toBe(1);
    expect(tree(app)).toEqual(before);
  });
});

describe('fn add on an orphan source', () => {
  it('adds the entry and leaves the file as it was', async () => {
    const app = copyFixture('scaffold/app');
    const orphan = '// mine, CRLF and all\r\nexports = function ({ id }) {\r\n  return id;\r\n};\r\n';
    mkdirSync(join(app, 'functions', 'jobs'));
    writeFileSync(join(app, 'functions', 'jobs', 'nightly.js'), orphan);
    const warned = await findings(app);
    expect(warned.diagnostics.map((d) => d.rule)).toEqual(['orphan-source']);

    const r = await fn(['add', 'jobs/nightly', '--private', '--json'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      sourceCreated: false,
      source: 'functions/jobs/nightly.js',
      entry: { name: 'jobs/nightly', private: true },
    });
    expect(readFileSync(join(app, 'functions', 'jobs', 'nightly.js'), 'utf8')).toBe(orphan);
    expect(entriesOf(app).at(-1)).toEqual({ name: 'jobs/nightly', private: true });
    await expectClean(app);
  });

  it('says so in text', async () => {
    const app = copyFixture('scaffold/app');
    writeFileSync(join(app, 'functions', 'solo.js'), 'exports = () => 1;\n');
    const r = await fn(['add', 'solo'], { cwd: app });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('✔ added the entry for solo to functions/config.json; functions/solo.js was left as it was');
    expect(readFileSync(join(app, 'functions', 'solo.js'), 'utf8')).toBe('exports = () => 1;\n');
  });
});

// ---------------------------------------------------------------------------------------------
// Writing the manifest: the entry is inserted, every other byte stays; remove gives them back.

interface FormatCase {
  name: string;
  text: string;
  /** The manifest after fn add x. */
  added: string;
}

const FORMATS: FormatCase[] = [
  {
    name: '4 spaces (Atlas)',
    text: '[\n    {\n        "name": "a",\n        "private": false\n    }\n]\n',
    added: '[\n    {\n        "name": "a",\n        "private": false\n    },\n    {\n        "name": "x"\n    }\n]\n',
  },
  {
    name: '2 spaces',
    text: '[\n  {\n    "name": "a"\n  },\n  {\n    "name": "b"\n  }\n]\n',
    added: '[\n  {\n    "name": "a"\n  },\n  {\n    "name": "b"\n  },\n  {\n    "name": "x"\n  }\n]\n',
  },
  {
    name: 'tabs',
    text: '[\n\t{\n\t\t"name": "a"\n\t}\n]\n',
    added: '[\n\t{\n\t\t"name": "a"\n\t},\n\t{\n\t\t"name": "x"\n\t}\n]\n',
  },
  {
    name: 'CRLF',
    text: '[\r\n    {\r\n        "name": "a"\r\n    }\r\n]\r\n',
    added: '[\r\n    {\r\n        "name": "a"\r\n    },\r\n    {\r\n        "name": "x"\r\n    }\r\n]\r\n',
  },
  {
    name: 'no final newline',
    text: '[\n  {\n    "name": "a"\n  }\n]',
    added: '[\n  {\n    "name": "a"\n  },\n  {\n    "name": "x"\n  }\n]',
  },
  {
    name: 'a BOM',
    text: '\uFEFF[\n    {\n        "name": "a"\n    }\n]\n',
    added: '\uFEFF[\n    {\n        "name": "a"\n    },\n    {\n        "name": "x"\n    }\n]\n',
  },
  {
    name: 'odd key order, an unknown field, spacing inside an entry',
    text: '[\n    {\n        "run_as_system": true,\n        "x-owner":   "ops",\n        "name": "a"\n    }\n]\n',
    added:
      '[\n    {\n        "run_as_system": true,\n        "x-owner":   "ops",\n        "name": "a"\n    },\n    {\n        "name": "x"\n    }\n]\n',
  },
  {
    name: 'one line, compact',
    text: '[{"name":"a","private":true}]\n',
    added: '[{"name":"a","private":true},{"name":"x"}]\n',
  },
  {
    name: 'one line, spaced',
    text: '[ { "name": "a" }, { "name": "b" } ]',
    added: '[ { "name": "a" }, { "name": "b" }, { "name": "x" } ]',
  },
  {
    name: 'an empty array',
    text: '[]\n',
    added: '[\n    {\n        "name": "x"\n    }\n]\n',
  },
  {
    name: 'an empty array, no final newline',
    text: '[]',
    added: '[\n    {\n        "name": "x"\n    }\n]',
  },
];

function appWith(manifest: string): string {
  const names = (JSON.parse(manifest.replace(/^\uFEFF/, '')) as { name: string }[]).map((e) => e.name);
  const files: Record<string, string> = { 'functions/config.json': manifest };
  for (const n of names) files[`functions/${n}.js`] = 'exports = function () {};\n';
  return makeApp(files);
}

describe('fn add keeps the manifest as it was written', () => {
  it.each(FORMATS)('$name: inserts the entry in the same style and nothing else', async ({ text, added }) => {
    const app = appWith(text);
    const before = await findings(app);
    const r = await fn(['add', 'x'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(app, 'functions', 'config.json'), 'utf8')).toBe(added);
    // No new finding (the unknown field's warning was there before, at the same place).
    expect(await findings(app)).toEqual(before);
  });

  it('tabs, with a nested can_evaluate', async () => {
    const app = appWith('[\n\t{\n\t\t"name": "a"\n\t}\n]\n');
    const r = await fn(['add', 'x', '--can-evaluate', '{"%%user.type": "server"}'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(manifestOf(app)).toBe(
      '[\n\t{\n\t\t"name": "a"\n\t},\n\t{\n\t\t"name": "x",\n\t\t"can_evaluate": {\n\t\t\t"%%user.type": "server"\n\t\t}\n\t}\n]\n',
    );
  });

  // The same cases the other way: fn remove x gives back the original bytes.
  it.each(FORMATS)('$name: fn remove x gives back the original bytes', async ({ text }) => {
    const app = appWith(text);
    expect((await fn(['add', 'x'], { cwd: app })).exitCode).toBe(0);
    const r = await fn(['remove', 'x'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(app, 'functions', 'config.json'), 'utf8')).toBe(text);
  });

  it('writes by replacing the file (temp file, then rename) and keeps its permissions', async () => {
    const app = copyFixture('scaffold/app');
    const manifest = join(app, 'functions', 'config.json');
    chmodSync(manifest, 0o640);
    const before = statSync(manifest);
    expect((await fn(['add', 'x'], { cwd: app })).exitCode).toBe(0);
    const after = statSync(manifest);
    // A new inode: the old file was never opened for writing, so no reader ever saw half of it.
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o640);
    // No temp file is left beside it.
    expect(readdirSync(join(app, 'functions')).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// A failure half-way. Permissions cannot be used (the tests may run as root, who ignores them);
// a file-size limit can: `ulimit -f 1` (512 or 1024 bytes) lets the small source file be written
// and makes the write of a larger manifest fail with EFBIG, for root too.

const canLimit = process.platform !== 'win32';

/** fn ...args under a file-size limit of `blocks` blocks. */
async function fnLimited(blocks: number, args: string[], cwd: string) {
  const r = await execa('sh', ['-c', `ulimit -f ${blocks} && exec node "$0" "$@"`, bin, ...args], {
    cwd,
    reject: false,
    env: { NO_COLOR: '1', CI: '1' },
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** An app whose manifest is well over the limit: 40 functions. */
function bigApp(): string {
  const entries = Array.from({ length: 40 }, (_, i) => ({ name: `fn${String(i).padStart(2, '0')}`, private: false, run_as_system: true }));
  const files: Record<string, string> = { 'functions/config.json': JSON.stringify(entries, null, 4) + '\n' };
  for (const e of entries) files[`functions/${e.name}.js`] = 'exports = function () {};\n';
  return makeApp(files);
}

describe.skipIf(!canLimit)('fn add: a failure half-way leaves the app as it was', () => {
  it('the manifest write fails: exit 3, the new source and its new folders are removed again', async () => {
    const app = bigApp();
    expect(statSync(join(app, 'functions', 'config.json')).size).toBeGreaterThan(2048);
    const before = tree(app);
    const r = await fnLimited(1, ['add', 'reports/2024/monthly'], app);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error cannot write functions\/config\.json: EFBIG/);
    expect(tree(app)).toEqual(before);
    // The control: without the limit the same command works.
    expect((await fn(['add', 'reports/2024/monthly'], { cwd: app })).exitCode).toBe(0);
  });

  it('under --json: one error document', async () => {
    const app = bigApp();
    const before = tree(app);
    const r = await fnLimited(1, ['add', 'extra', '--json'], app);
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      error: { code: 'WRITE_FAILED', message: expect.stringContaining('cannot write functions/config.json') },
    });
    expect(tree(app)).toEqual(before);
  });

  it('a folder that was there before stays', async () => {
    const app = bigApp();
    mkdirSync(join(app, 'functions', 'reports'));
    const before = tree(app);
    expect((await fnLimited(1, ['add', 'reports/monthly'], app)).exitCode).toBe(3);
    expect(tree(app)).toEqual(before);
  });

  it('an orphan source is kept when its entry cannot be written', async () => {
    const app = bigApp();
    writeFileSync(join(app, 'functions', 'orphan.js'), 'exports = () => "mine";\n');
    const before = tree(app);
    expect((await fnLimited(1, ['add', 'orphan'], app)).exitCode).toBe(3);
    expect(tree(app)).toEqual(before);
  });

  it('the source write fails: an error, not an internal one, and nothing written', async () => {
    const app = copyFixture('scaffold/app');
    const before = tree(app);
    const r = await fnLimited(0, ['add', 'extra', '--json'], app);
    expect(tree(app)).toEqual(before);
    expect(r.exitCode).not.toBe(70);
    expect(JSON.parse(r.stdout).error.code).not.toBe('INTERNAL');
  });
});

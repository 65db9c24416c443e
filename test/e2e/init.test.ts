// fn init, end to end against the built CLI: each template gives an app that fn validate passes
// with no finding and that type-checks; an App Services export is adopted by writing
// fn.config.json only; a user's file is never overwritten; without a terminal nothing waits.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, cleanupTemps, copyFixture, fn, makeApp, repoRoot, tempDir, tree } from './helpers.js';

afterAll(cleanupTemps);

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; files: string[] };
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

interface ValidateDoc {
  ok: boolean;
  apps: { root: string; appId: string; functions: number; errors: number; warnings: number }[];
  diagnostics: { rule: string; message: string; file: string }[];
}

/** fn validate --strict --json in `cwd`: exit code and the parsed document. */
async function validate(cwd: string): Promise<{ exitCode: number; doc: ValidateDoc; stderr: string }> {
  const r = await fn(['validate', '--strict', '--json'], { cwd });
  return { exitCode: r.exitCode, doc: JSON.parse(r.stdout) as ValidateDoc, stderr: r.stderr };
}

interface InitDoc {
  ok: boolean;
  root: string;
  appId: string;
  appIdSource: string;
  template: string | null;
  adopted: boolean;
  created: string[];
  next: string[];
}

const BASE_FILES = ['.gitignore', 'fn.config.json', 'jsconfig.json', 'types/fn-runtime.d.ts'];
const TEMPLATES: Record<string, string[]> = {
  example: [
    ...BASE_FILES,
    'data_sources/mongodb-atlas/config.json',
    'data_sources/mongodb-atlas/shop/notes/rules.json',
    'functions/addNote.js',
    'functions/calculateTotal.js',
    'functions/config.json',
  ].sort(),
  blank: [...BASE_FILES, 'functions/config.json'].sort(),
};

describe('fn init <dir> from a template', () => {
  it.each(Object.keys(TEMPLATES))('--template %s: writes the app, which fn validate passes with no finding', async (template) => {
    const cwd = tempDir();
    const r = await fn(['init', 'my-app', '--template', template], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const app = join(cwd, 'my-app');
    expect(
      Object.keys(tree(app))
        .filter((p) => !p.endsWith('/'))
        .sort(),
    ).toEqual(TEMPLATES[template]);
    // stdout names the template, the app id and every file written, then the next commands.
    expect(r.stdout).toContain(`from the ${template} template (app id my-app)`);
    for (const file of TEMPLATES[template]!) expect(r.stdout).toContain(`+ ${file}\n`);

    const v = await validate(app);
    expect(v.exitCode).toBe(0);
    expect(v.doc.diagnostics).toEqual([]);
    expect(v.doc.apps).toEqual([
      expect.objectContaining({ appId: 'my-app', functions: template === 'example' ? 2 : 0, errors: 0, warnings: 0 }),
    ]);
  });

  it('uses the example template by default', async () => {
    const cwd = tempDir();
    const r = await fn(['init', 'shop'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(
      Object.keys(tree(join(cwd, 'shop')))
        .filter((p) => !p.endsWith('/'))
        .sort(),
    ).toEqual(TEMPLATES.example);
  });

  it('the blank template has an empty manifest and no function', async () => {
    const cwd = tempDir();
    await fn(['init', 'app', '-t', 'blank'], { cwd });
    expect(JSON.parse(readFileSync(join(cwd, 'app', 'functions', 'config.json'), 'utf8'))).toEqual([]);
    expect(readdirSync(join(cwd, 'app', 'functions'))).toEqual(['config.json']);
  });

  it("fn.config.json points $schema at the schema this fn ships (a file URL when fn is not in the app's node_modules) and holds the app id", async () => {
    const cwd = tempDir();
    await fn(['init', 'app'], { cwd });
    const config = JSON.parse(readFileSync(join(cwd, 'app', 'fn.config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.appId).toBe('app');
    // Run from the repository, fn is in no node_modules: the schema's own file, which exists.
    const schemaRef = config.$schema as string;
    expect(schemaRef.startsWith('file://'), schemaRef).toBe(true);
    const path = fileURLToPath(schemaRef);
    expect(path).toBe(join(repoRoot, 'schemas', 'fn-config.schema.json'));
    expect(pkg.files.some((f) => relative(repoRoot, path).startsWith(f))).toBe(true);
    const schema = JSON.parse(readFileSync(path, 'utf8')) as { properties: Record<string, unknown> };
    // It is the schema of fn.config.json, and the file uses only its settings.
    for (const key of Object.keys(config)) if (key !== '$schema') expect(Object.keys(schema.properties)).toContain(key);
  });

  it('the example function takes { items } and returns { total }', async () => {
    const cwd = tempDir();
    await fn(['init', 'app'], { cwd });
    const source = readFileSync(join(cwd, 'app', 'functions', 'calculateTotal.js'), 'utf8');
    expect(JSON.parse(readFileSync(join(cwd, 'app', 'functions', 'config.json'), 'utf8'))).toEqual([
      { name: 'calculateTotal' },
      { name: 'addNote' },
    ]);
    // Run it the way App Services does: the file assigns the function to `exports`.
    const sandbox: { exports?: unknown } = {};
    runInNewContext(source, sandbox);
    const calculateTotal = sandbox.exports as (args: { items: { price: number; quantity?: number }[] }) => { total: number };
    expect(typeof calculateTotal).toBe('function');
    expect(calculateTotal({ items: [{ price: 2.5, quantity: 2 }, { price: 1.25 }] })).toEqual({ total: 6.25 });
    expect(calculateTotal({ items: [] })).toEqual({ total: 0 });
  });

  it('.gitignore ignores .fn/', async () => {
    const cwd = tempDir();
    await fn(['init', 'app'], { cwd });
    const app = join(cwd, 'app');
    expect(readFileSync(join(app, '.gitignore'), 'utf8').split('\n')).toContain('.fn/');
    // And git agrees, when git is there to ask.
    if (spawnSync('git', ['--version']).status === 0) {
      expect(spawnSync('git', ['init', '-q'], { cwd: app }).status).toBe(0);
      expect(spawnSync('git', ['check-ignore', '-q', '.fn/last-push.json'], { cwd: app }).status).toBe(0);
      expect(spawnSync('git', ['check-ignore', '-q', 'functions/calculateTotal.js'], { cwd: app }).status).toBe(1);
    }
  });

  it('derives the app id from the folder name', async () => {
    const cwd = tempDir();
    const r = await fn(['init', 'My Café Shop', '--json'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ appId: 'my-cafe-shop', appIdSource: 'folder name' });
    expect(JSON.parse(readFileSync(join(cwd, 'My Café Shop', 'fn.config.json'), 'utf8')).appId).toBe('my-cafe-shop');
  });

  it('--app-id sets the app id', async () => {
    const cwd = tempDir();
    const r = await fn(['init', 'app', '--app-id', 'shop-prod_2'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('(app id shop-prod_2)');
    expect(JSON.parse(readFileSync(join(cwd, 'app', 'fn.config.json'), 'utf8')).appId).toBe('shop-prod_2');
    expect((await validate(join(cwd, 'app'))).doc.apps[0]!.appId).toBe('shop-prod_2');
  });

  it.each([
    [['--template', 'nope'], 'there is no template "nope"'],
    [['--app-id', 'has space'], '--app-id "has space" is not a valid app id'],
    [['--app-id', '-dash'], '--app-id "-dash" is not a valid app id'],
  ])('%j: exit 2, nothing written', async (flags, message) => {
    const cwd = tempDir();
    const r = await fn(['init', 'app', ...flags], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--template with an unknown name names the templates there are', async () => {
    const r = await fn(['init', 'app', '--template', 'nope', '--json'], { cwd: tempDir() });
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      error: { code: 'USAGE', message: 'there is no template "nope"', hint: 'pick one of: blank, example' },
    });
  });
});

describe('fn init: what to run next', () => {
  /** The lines after "Next:", which must be the end of the output. */
  function nextOf(stdout: string): string[] {
    const at = stdout.lastIndexOf('\nNext:\n');
    expect(at).toBeGreaterThan(0);
    const lines = stdout.slice(at + '\nNext:\n'.length).split('\n');
    for (const line of lines) expect(line).toMatch(/^ {2}\S/);
    return lines.map((l) => l.slice(2));
  }

  it('ends with the commands to run; each names a real command, and the first ones work', async () => {
    const cwd = tempDir();
    const r = await fn(['init', 'shop'], { cwd });
    const next = nextOf(r.stdout);
    expect(next.slice(0, 2)).toEqual(['cd shop', 'fn validate']);
    const help = await fn(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+)[ |]/gm)].map((m) => m[1]!);
    for (const step of next.slice(1)) expect(commands, step).toContain(/^fn ([a-z]+)/.exec(step)?.[1]);
    const v = await fn(['validate'], { cwd: join(cwd, 'shop') });
    expect(v.exitCode).toBe(0);
    expect(v.stdout).toContain('no problems');
  });

  it('blank: suggests fn add, and the app it leaves passes fn validate with no finding', async () => {
    const cwd = tempDir();
    const r = await fn(['init', 'shop', '--template', 'blank'], { cwd });
    const next = nextOf(r.stdout);
    expect(next.slice(0, 2)).toEqual(['cd shop', 'fn validate']);
    expect(next).toContain('fn add hello');
    const app = join(cwd, 'shop');
    const add = await fn(['add', 'hello'], { cwd: app });
    expect(add.exitCode, add.stderr).toBe(0);
    const v = await validate(app);
    expect(v.exitCode).toBe(0);
    expect(v.doc.diagnostics).toEqual([]);
    expect(v.doc.apps[0]!.functions).toBe(1);
  });

  it('quotes a folder with a space, and says no cd when the app is the current folder', async () => {
    const cwd = tempDir();
    const spaced = await fn(['init', 'my shop', '--json'], { cwd });
    expect((JSON.parse(spaced.stdout) as InitDoc).next.slice(0, 2)).toEqual(['cd "my shop"', 'fn validate']);
    const here = join(cwd, 'here');
    mkdirSync(here);
    const r = await fn(['init', '--json'], { cwd: here });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as InitDoc;
    expect(doc).toMatchObject({ root: '.', appId: 'here' });
    expect(doc.next[0]).toBe('fn validate');
    expect(doc.next.filter((s) => s.startsWith('cd '))).toEqual([]);
  });

  it('--json prints one document describing what was done', async () => {
    const cwd = tempDir();
    const r = await fn(['init', 'shop', '--json', '--template', 'blank', '--app-id', 'shop-1'], { cwd });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(r.stdout) as InitDoc;
    expect(doc).toEqual({
      ok: true,
      root: 'shop',
      appId: 'shop-1',
      appIdSource: '--app-id',
      template: 'blank',
      adopted: false,
      created: TEMPLATES.blank,
      updated: [],
      next: expect.arrayContaining(['cd shop', 'fn validate', 'fn add hello']),
    });
    // The same steps as the text output prints.
    const text = await fn(['init', 'shop2', '--template', 'blank'], { cwd });
    expect(nextOf(text.stdout)).toEqual(doc.next.map((s) => s.replace('cd shop', 'cd shop2')));
  });
});

describe('fn init: the editor setup type-checks function sources', () => {
  async function typeCheck(app: string) {
    const r = await execa('node', [tsc, '-p', 'jsconfig.json', '--pretty', 'false'], { cwd: app, reject: false });
    return { exitCode: r.exitCode, out: String(r.stdout) + String(r.stderr) };
  }

  it('a new app type-checks, with every runtime global declared for // @ts-check files', async () => {
    const cwd = tempDir();
    await fn(['init', 'app'], { cwd });
    const app = join(cwd, 'app');
    expect(existsSync(join(app, 'jsconfig.json'))).toBe(true);
    expect(readFileSync(join(app, 'types', 'fn-runtime.d.ts'), 'utf8')).toMatch(/declare var context/);
    // A checked function that uses every global the runtime provides.
    writeFileSync(
      join(app, 'functions', 'useAll.js'),
      [
        '// @ts-check',
        'exports = async function ({ id }) {',
        '  /** @type {string} */ const userId = context.user.id;',
        '  const ip = context.request.remoteIPAddress;',
        '  const agent = context.request.requestHeaders["User-Agent"]?.[0];',
        '  const limit = context.values.get("limit");',
        '  /** @type {boolean} */ const system = context.runningAsSystem();',
        '  console.log(userId, ip, agent, limit, system, id);',
        '  const oid = BSON.ObjectId(id); const oid2 = new BSON.ObjectId();',
        '  /** @type {string} */ const hex = oid.toHexString() + oid2.toHexString() + BSON.Binary.fromHex("00").toBase64();',
        '  /** @type {string} */ const ejson = EJSON.stringify({ oid }, { relaxed: false });',
        '  /** @type {string} */ const digest = utils.crypto.hash("sha256", hex).toHex() + utils.crypto.hmac(ejson, "k", "sha256", "hex");',
        '  /** @type {string} */ const token = utils.jwt.encode("HS256", { digest }, "k");',
        '  const answer = await context.http.get({ url: "http://127.0.0.1/" + token });',
        '  /** @type {number} */ const code = answer.statusCode; console.log(code, answer.body.text());',
        '  return context.functions.execute("calculateTotal", { items: [] });',
        '};',
        '',
      ].join('\n'),
    );
    const r = await typeCheck(app);
    expect(r.out).toBe('');
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it('a // @ts-check function with a mistake fails, naming the mistake; an unchecked one is left alone', async () => {
    const cwd = tempDir();
    await fn(['init', 'app'], { cwd });
    const app = join(cwd, 'app');
    writeFileSync(join(app, 'functions', 'typo.js'), '// @ts-check\nexports = function () {\n  return context.user.idd;\n};\n');
    writeFileSync(join(app, 'functions', 'notAFunction.js'), '// @ts-check\nexports = 5;\n');
    writeFileSync(join(app, 'functions', 'unchecked.js'), 'exports = function () {\n  return context.user.idd;\n};\n');
    const r = await typeCheck(app);
    expect(r.exitCode).not.toBe(0);
    expect(r.out).toMatch(/functions\/typo\.js\(3,23\): error TS2339: Property 'idd' does not exist on type/);
    expect(r.out).toMatch(/functions\/notAFunction\.js\(2,1\): error TS2322: Type 'number' is not assignable to type/);
    expect(r.out).not.toContain('unchecked.js');
    expect(r.out.match(/error TS/g)).toHaveLength(2);
  }, 60_000);
});

describe('fn init inside an existing project adds its files and never overwrites one', () => {
  const project = {
    'package.json': '{\n  "name": "site",\n  "private": true\n}\n',
    'README.md': '# site\n',
    'src/main.jsx': 'export default 1;\n',
    'index.html': '<!doctype html>\n',
  };

  it("a frontend with a package.json and a README: the app's files go beside them, every file there keeps its bytes", async () => {
    const app = makeApp(project);
    const before = tree(app);
    const r = await fn(['init', '--json'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as InitDoc & { updated: string[] };
    expect(doc).toMatchObject({ adopted: false, template: 'example', created: TEMPLATES.example, updated: [] });
    const after = tree(app);
    for (const [path, bytes] of Object.entries(before)) expect(after[path], path).toBe(bytes);
    for (const file of TEMPLATES.example!) expect(after[file], file).toBeDefined();
    const v = await validate(app);
    expect(v.exitCode).toBe(0);
    expect(v.doc.diagnostics).toEqual([]);
  });

  it('a .gitignore there gets the rules it lacks appended; its own lines stay as they were', async () => {
    const app = makeApp({ ...project, '.gitignore': 'node_modules\r\ndist' });
    const r = await fn(['init'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('~ .gitignore');
    expect(r.stdout).not.toContain('+ .gitignore');
    const text = readFileSync(join(app, '.gitignore'), 'utf8');
    expect(text.startsWith('node_modules\r\ndist\r\n')).toBe(true);
    expect(text.split(/\r?\n/)).toContain('.fn/');
    // node_modules was ignored already: not added twice.
    expect(text.match(/node_modules/g)).toHaveLength(1);
    // A second app folder with every rule there: the file is left alone.
    const other = makeApp({ '.gitignore': '/node_modules/\n.fn\n' });
    const again = await fn(['init', '--json'], { cwd: other });
    expect(JSON.parse(again.stdout)).toMatchObject({ updated: [] });
    expect(readFileSync(join(other, '.gitignore'), 'utf8')).toBe('/node_modules/\n.fn\n');
  });

  it('a file in the way: exit 1, each one named, nothing written', async () => {
    const app = makeApp({ ...project, 'jsconfig.json': '{}\n', 'types/fn-runtime.d.ts': 'mine\n', '.gitignore': 'dist\n' });
    const before = tree(app);
    const r = await fn(['init'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^error fn init would overwrite 2 files in \.: jsconfig\.json, types\/fn-runtime\.d\.ts; nothing was written\nhint /,
    );
    expect(tree(app)).toEqual(before);
  });

  it('the same with a folder argument and --json; a file where a folder must go counts too', async () => {
    const cwd = makeApp({ 'shop/functions': 'a file\n' });
    const before = tree(cwd);
    const r = await fn(['init', 'shop', '--json', '--template', 'blank'], { cwd });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      error: { code: 'ALREADY_EXISTS', message: 'fn init would overwrite a file in shop: functions; nothing was written' },
    });
    expect(tree(cwd)).toEqual(before);
  });

  it('a folder holding only .git counts as empty, and .git is left as it was', async () => {
    const app = makeApp({ '.git/HEAD': 'ref: refs/heads/main\n' });
    const r = await fn(['init'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(app, '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(existsSync(join(app, 'functions', 'calculateTotal.js'))).toBe(true);
  });

  it('an app that has fn.config.json already: exit 1, nothing changed', async () => {
    const cwd = tempDir();
    await fn(['init', 'app'], { cwd });
    const app = join(cwd, 'app');
    writeFileSync(join(app, 'fn.config.json'), '{ "appId": "mine" }\n');
    const before = tree(app);
    for (const args of [['init'], ['init', '--app-id', 'other'], ['init', '--template', 'blank']]) {
      const r = await fn(args, { cwd: app });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('is already an fn app (fn.config.json exists)');
    }
    const json = await fn(['init', 'app', '--json'], { cwd });
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'ALREADY_EXISTS' } });
    expect(tree(app)).toEqual(before);
  });

  it('a target that is a file: refused (not an internal error), the file untouched', async () => {
    const cwd = makeApp({ 'notes.txt': 'mine\n' });
    const r = await fn(['init', 'notes.txt'], { cwd });
    expect(r.stderr).not.toContain('internal error');
    expect([1, 2]).toContain(r.exitCode);
    expect(tree(cwd)).toEqual({ 'notes.txt': Buffer.from('mine\n').toString('base64') });
  });
});

describe('fn init inside an App Services export adopts it', () => {
  it('writes fn.config.json only, with the app id of root_config.json; every other file is untouched', async () => {
    const app = copyFixture('scaffold/atlas-export');
    const before = tree(app);
    const r = await fn(['init'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /^✔ adopted the App Services export in \.: wrote fn\.config\.json \(app id shop-abcde, from root_config\.json\); no other file was touched\n\nNext:\n {2}fn validate(\n|$)/,
    );
    const after = tree(app);
    const { 'fn.config.json': written, ...rest } = after;
    expect(rest).toEqual(before);
    expect(written).toBeDefined();
    const config = JSON.parse(readFileSync(join(app, 'fn.config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.appId).toBe('shop-abcde');
    expect(config.functionsDir ?? 'functions').toBe('functions');

    const v = await validate(app);
    expect(v.exitCode).toBe(0);
    expect(v.doc.diagnostics).toEqual([]);
    expect(v.doc.apps).toEqual([expect.objectContaining({ appId: 'shop-abcde', functions: 2 })]);
  });

  it('from outside, with the folder as argument, and --json', async () => {
    const app = copyFixture('scaffold/atlas-export');
    const before = tree(app);
    const r = await fn(['init', app, '--json', '--template', 'blank']);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as InitDoc;
    expect(doc).toMatchObject({
      ok: true,
      appId: 'shop-abcde',
      appIdSource: 'root_config.json',
      adopted: true,
      created: ['fn.config.json'],
    });
    expect(doc.template ?? null).toBeNull();
    const { 'fn.config.json': _, ...rest } = tree(app);
    expect(rest).toEqual(before);
  });

  it('takes the app id from realm_config.json', async () => {
    const app = makeApp({
      'realm_config.json': '{\n    "app_id": "orders-xyzab",\n    "config_version": 20210101,\n    "name": "orders"\n}\n',
      'functions/config.json': '[]\n',
    });
    const r = await fn(['init', '--json'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ appId: 'orders-xyzab', appIdSource: 'realm_config.json', adopted: true });
    expect(readdirSync(app).sort()).toEqual(['fn.config.json', 'functions', 'realm_config.json']);
    expect(readFileSync(join(app, 'functions', 'config.json'), 'utf8')).toBe('[]\n');
  });

  it('a bare functions/config.json is adopted too: the id from the folder name; a user .gitignore and jsconfig.json are left alone', async () => {
    const cwd = tempDir();
    const app = join(cwd, 'Legacy Orders');
    const files: Record<string, string> = {
      'functions/config.json': '[\n  {\n    "name": "ping"\n  }\n]',
      'functions/ping.js': 'exports = () => "pong";\n',
      '.gitignore': 'dist/\n',
      'jsconfig.json': '{ "compilerOptions": {} }\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(app, path, '..'), { recursive: true });
      writeFileSync(join(app, path), text);
    }
    const before = tree(app);
    const r = await fn(['init', 'Legacy Orders', '--json'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as InitDoc;
    expect(doc).toMatchObject({ appId: 'legacy-orders', appIdSource: 'folder name', adopted: true, created: ['fn.config.json'] });
    expect(doc.next.slice(0, 2)).toEqual(['cd "Legacy Orders"', 'fn validate']);
    const { 'fn.config.json': _, ...rest } = tree(app);
    expect(rest).toEqual(before);
    expect((await validate(app)).doc.diagnostics).toEqual([]);
  });

  it('--app-id wins over the export', async () => {
    const app = copyFixture('scaffold/atlas-export');
    const r = await fn(['init', '--app-id', 'mine'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('(app id mine, from --app-id)');
    expect(JSON.parse(readFileSync(join(app, 'fn.config.json'), 'utf8')).appId).toBe('mine');
  });

  it('a second fn init in the adopted export is refused and changes nothing', async () => {
    const app = copyFixture('scaffold/atlas-export');
    expect((await fn(['init'], { cwd: app })).exitCode).toBe(0);
    const before = tree(app);
    const r = await fn(['init'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('is already an fn app');
    expect(tree(app)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Never waiting: without a terminal (and with --yes on one) init uses the defaults at once.

/** The shell-quoted command line that runs the built CLI. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const cliLine = (args: string[]) => ['node', bin, ...args].map(shellQuote).join(' ');
// util-linux `script` runs a command on a pseudo-terminal: the only way to give fn a TTY here.
const hasScript = process.platform === 'linux' && spawnSync('script', ['--version']).status === 0;

/** Runs fn on a pseudo-terminal (no CI variable); waitFor() resolves once the output shows a text. */
function onTerminal(args: string[], cwd: string) {
  const child = execa('script', ['-qec', cliLine(args), '/dev/null'], {
    cwd,
    env: { CI: undefined, NO_COLOR: '1' },
    extendEnv: true,
    reject: false,
    stdin: 'pipe',
    timeout: 15_000,
  });
  let output = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiters.splice(0)) {
      if (output.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    child,
    output: () => output,
    /** Resolves once the output shows `text`. */
    waitFor: (text: string) => new Promise<void>((resolve) => (output.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

describe('fn init never waits without a terminal', () => {
  it('stdin a pipe left open, no CI variable: finishes with the defaults and asks nothing', async () => {
    const cwd = tempDir();
    // The pipe stays open: a prompt would wait until the timeout.
    const child = execa('node', [bin, 'init', 'shop'], {
      cwd,
      env: { CI: undefined, NO_COLOR: '1' },
      extendEnv: true,
      reject: false,
      stdin: 'pipe',
      timeout: 15_000,
    });
    const r = await child;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(String(r.stdout)).toContain('from the example template (app id shop)');
    expect(existsSync(join(cwd, 'shop', 'functions', 'calculateTotal.js'))).toBe(true);
  });

  it('CI=1 (as in every test here): finishes with the defaults', async () => {
    const cwd = tempDir();
    const r = await fn(['init', 'shop', '--json'], { cwd });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ appId: 'shop', template: 'example' });
  });

  it.skipIf(!hasScript)('on a terminal it asks (the control for the next test)', async () => {
    const cwd = tempDir();
    const t = onTerminal(['init', 'shop'], cwd);
    await t.waitFor('App id (shop): ');
    t.child.stdin.write('shop-live\n');
    await t.waitFor('Template (blank, example) (example): ');
    t.child.stdin.write('blank\n');
    const r = await t.child;
    expect(r.exitCode, t.output()).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'shop', 'fn.config.json'), 'utf8')).appId).toBe('shop-live');
    expect(JSON.parse(readFileSync(join(cwd, 'shop', 'functions', 'config.json'), 'utf8'))).toEqual([]);
  });

  it.skipIf(!hasScript)('on a terminal with --yes it asks nothing and uses the defaults', async () => {
    const cwd = tempDir();
    const t = onTerminal(['init', 'shop', '--yes'], cwd);
    const r = await t.child;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode, t.output()).toBe(0);
    expect(t.output()).not.toContain('App id');
    expect(t.output()).toContain('from the example template (app id shop)');
    expect(statSync(join(cwd, 'shop', 'functions', 'calculateTotal.js')).isFile()).toBe(true);
  });

  it.skipIf(!hasScript)('on a terminal, flags that answer every question mean no question', async () => {
    const cwd = tempDir();
    const t = onTerminal(['init', 'shop', '--app-id', 'given', '--template', 'blank'], cwd);
    const r = await t.child;
    expect(r.exitCode, t.output()).toBe(0);
    expect(t.output()).not.toContain('App id');
    expect(t.output()).not.toContain('Template (');
  });

  (hasScript ? it : it.skip)('Ctrl+C at a prompt: exit 130, nothing written, no internal error', async () => {
    const cwd = tempDir();
    const t = onTerminal(['init', 'shop'], cwd);
    await t.waitFor('App id (shop): ');
    t.child.stdin.write('\x03');
    const r = await t.child;
    expect(t.output()).not.toContain('internal error');
    expect(r.exitCode).toBe(130);
    expect(readdirSync(cwd)).toEqual([]);
  });

  (hasScript ? it : it.skip)('Ctrl+D at a prompt: no internal error', async () => {
    const cwd = tempDir();
    const t = onTerminal(['init', 'shop'], cwd);
    await t.waitFor('App id (shop): ');
    t.child.stdin.write('\x04');
    const r = await t.child;
    expect(t.output()).not.toContain('internal error');
    expect(r.exitCode).not.toBe(70);
  });
});

describe('the example app reads and writes through its data source', () => {
  it('addNote stores notes in the embedded engine, and each user sees only their own', async () => {
    const cwd = tempDir();
    await fn(['init', 'app'], { cwd });
    const app = join(cwd, 'app');
    const env = { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' };
    const ann = await fn(['invoke', '--local', 'addNote', '--user', 'ann', '--data', '{"text":"one"}'], { cwd: app, env });
    expect(ann.exitCode, ann.stderr).toBe(0);
    expect(ann.stderr).toMatch(/data mongodb-atlas: embedded engine/);
    await fn(['invoke', '--local', 'addNote', '--user', 'bob', '--data', '{"text":"two"}'], { cwd: app, env });
    const again = await fn(['invoke', '--local', 'addNote', '--user', 'ann', '--data', '{"text":"three"}'], { cwd: app, env });
    expect((JSON.parse(again.stdout) as { text: string }[]).map((n) => n.text)).toEqual(['three', 'one']);
  });
});

// The one bundle builder: a folder (fn dev, invoke --local) and the deployment fn push makes of it
// (fn serve) give the same functions and values; the first entry of a name wins everywhere;
// errors mark what cannot run.
import { describe, expect, it } from 'vitest';
import { localSnapshot } from '../../../src/commands/sync.js';
import { checkProject } from '../../../src/project/check-project.js';
import { loadProject } from '../../../src/project/load-project.js';
import { brokenFrom, bundleDeployment, bundleProject, readEnvironment, readValueFiles } from '../../../src/runtime/bundle.js';
import type { AppBundle } from '../../../src/runtime/types.js';
import { FileStore } from '../../../src/server/store.js';
import { tempDir, writeTree } from '../manifest/tmp-tree.js';

const APP: Record<string, string> = {
  'fn.config.json': '{ "appId": "same" }\n',
  'functions/config.json': JSON.stringify([
    { name: 'pub' },
    { name: 'priv', private: true, can_evaluate: { '%%user.type': 'server' } },
    { name: 'nested/asUser', run_as_user_id: 'u1', disable_arg_logs: true },
    { name: 'dup', private: true },
    { name: 'dup', private: false },
  ]),
  'functions/pub.js': "\uFEFFexports = function () { return context.values.get('greeting'); };\n",
  'functions/priv.js': 'exports = () => 1;\n',
  'functions/nested/asUser.js': 'exports = () => 2;\n',
  'functions/dup.js': 'exports = () => 3;\n',
  'functions/noEntry.js': 'exports = () => 4;\n',
  'values/greeting.json': '{ "name": "greeting", "value": "hi there" }\n',
  'values/list.json': '{ "name": "list", "value": [1, 2, 3] }\n',
  'root_config.json': '{ "environment": "production" }\n',
  'environments/production.json': '{ "values": { "tier": "prod" } }\n',
};

/** What fn push sends for a folder, committed to a store the way fn serve's deploy route does. */
async function deployed(root: string): Promise<AppBundle> {
  const project = loadProject(root);
  const local = localSnapshot(project);
  const store = new FileStore(tempDir());
  const blobs: Record<string, string> = {};
  const set: Record<string, string> = {};
  for (const [name, state] of Object.entries(local.state)) {
    set[name] = state.hash;
    blobs[state.hash] = local.texts.get(name)!;
  }
  await store.commit('same', {
    expectedVersion: 0,
    manifest: local.manifestText,
    set,
    delete: [],
    blobs,
    summary: '',
    values: readValueFiles(root),
    environment: readEnvironment(root),
  });
  return bundleDeployment('same', store.current('same')!, (hash) => store.readBlob('same', hash));
}

describe('bundle builder', () => {
  it('builds the same functions, values and environment from a folder and from its deployment', async () => {
    const root = writeTree(tempDir(), APP);
    const fromFolder = bundleProject(loadProject(root), '1');
    const fromDeployment = await deployed(root);
    expect(Object.keys(fromFolder.functions).sort()).toEqual(['dup', 'nested/asUser', 'noEntry', 'priv', 'pub']);
    expect(fromDeployment.functions).toEqual(fromFolder.functions);
    expect(fromFolder.values).toEqual({ greeting: 'hi there', list: [1, 2, 3] });
    expect(fromDeployment.values).toEqual(fromFolder.values);
    expect(fromFolder.environment).toEqual({ tag: 'production', values: { tier: 'prod' } });
    expect(fromDeployment.environment).toEqual(fromFolder.environment);
  });

  it('takes the first entry of a duplicated name, from a folder and from a deployment', async () => {
    const root = writeTree(tempDir(), APP);
    expect(bundleProject(loadProject(root), '1').functions.dup!.private).toBe(true);
    expect((await deployed(root)).functions.dup!.private).toBe(true);
  });

  it('marks the function an error is about, or the whole app when the manifest cannot be read', () => {
    const root = writeTree(tempDir(), { ...APP, 'functions/priv.js': 'exports = function () { const x = ; };\n' });
    const project = loadProject(root);
    const bundle = bundleProject(project, '1', checkProject(project));
    expect(bundle.functions.priv!.broken).toMatch(/^function "priv" cannot run: functions\/priv\.js:1:\d+: /);
    expect(bundle.functions.pub!.broken).toBeUndefined();
    expect(bundle.functions.dup!.broken).toBeUndefined();
    expect(bundle.broken).toBeUndefined();

    const laterDuplicate = writeTree(tempDir(), {
      ...APP,
      'functions/config.json': JSON.stringify([{ name: 'pub' }, { name: 'pub', private: 'yes' }]),
    });
    const d = loadProject(laterDuplicate);
    expect(bundleProject(d, '1', checkProject(d)).functions.pub!.broken).toBeUndefined();

    const missing = writeTree(tempDir(), { ...APP, 'functions/config.json': JSON.stringify([{ name: 'pub' }, { name: 'gone' }]) });
    const m = loadProject(missing);
    expect(bundleProject(m, '1', checkProject(m)).functions.gone!.broken).toMatch(/functions\/config\.json:\d+:\d+: .*no source file/);

    const unreadable = writeTree(tempDir(), { ...APP, 'functions/config.json': '[{ "name": "pub" },' });
    const u = loadProject(unreadable);
    expect(brokenFrom(u.manifest, checkProject(u)).app).toMatch(/^functions\/config\.json:1:\d+: /);
    expect(bundleProject(u, '1', checkProject(u)).broken).toMatch(/^the app cannot run: functions\/config\.json/);
  });
});

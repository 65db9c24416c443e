import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDataSources } from '../../../src/app/check-data-sources.js';
import { loadDataSources } from '../../../src/app/data-sources.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function app(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'fn-ds-'));
  roots.push(root);
  for (const [rel, value] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  }
  return root;
}

const config = { name: 'mongodb-atlas', type: 'mongodb-atlas', config: { clusterName: 'Cluster0', readPreference: 'primary' }, version: 1 };
const owner = { name: 'owner', apply_when: { owner_id: '%%user.id' }, read: true, write: true, insert: true, delete: true, search: true };

describe('loading data sources', () => {
  it('reads config, default rule and rules keyed by the folders, and the older services/ layout', () => {
    const root = app({
      'data_sources/mongodb-atlas/config.json': config,
      'data_sources/mongodb-atlas/default_rule.json': { roles: [{ name: 'read', apply_when: {}, read: true }] },
      'data_sources/mongodb-atlas/shop/orders/rules.json': {
        database: 'shop',
        collection: 'orders',
        roles: [owner],
        filters: [{ name: 'f', apply_when: {}, query: {}, project: { a: 1 } }],
      },
      'services/legacy/config.json': { name: 'legacy', type: 'mongodb-atlas', config: {} },
      'services/legacy/rules/db.things.json': { database: 'db', collection: 'things', roles: [owner] },
      'data_sources/mongodb-atlas/shop/empty/schema.json': '',
    });
    const { sources, diagnostics } = loadDataSources(root);
    expect(diagnostics).toEqual([]);
    expect(sources.map((s) => s.name)).toEqual(['mongodb-atlas', 'legacy']);
    expect(Object.keys(sources[0]!.rules.namespaces)).toEqual(['shop.orders']);
    expect(sources[0]!.rules.namespaces['shop.orders']!.filters[0]!.projection).toEqual({ a: 1 });
    expect(sources[0]!.rules.defaultRule!.roles[0]!.name).toBe('read');
    expect(Object.keys(sources[1]!.rules.namespaces)).toEqual(['db.things']);
  });

  it('warns when rules.json names another namespace than its folders', () => {
    const root = app({
      'data_sources/mongodb-atlas/config.json': config,
      'data_sources/mongodb-atlas/shop/orders/rules.json': { database: 'shop', collection: 'order', roles: [owner] },
    });
    const { sources, diagnostics } = loadDataSources(root);
    expect(Object.keys(sources[0]!.rules.namespaces)).toEqual(['shop.orders']);
    expect(diagnostics[0]).toMatchObject({
      rule: 'data-source-invalid',
      file: 'data_sources/mongodb-atlas/shop/orders/rules.json',
      pointer: '/collection',
    });
  });
});

describe('checking data sources', () => {
  it('a sound app has no findings', () => {
    const root = app({
      'data_sources/mongodb-atlas/config.json': config,
      'data_sources/mongodb-atlas/shop/orders/rules.json': {
        database: 'shop',
        collection: 'orders',
        roles: [
          owner,
          {
            name: 'x',
            apply_when: { '%%user.custom_data.role': 'admin' },
            document_filters: { read: true, write: { '%%prevRoot': { $exists: false } } },
            fields: { a: { read: true, fields: {} } },
            additional_fields: {},
          },
        ],
        filters: [],
      },
      'functions/f.js': "exports = () => context.services.get('mongodb-atlas')",
    });
    expect(checkDataSources(root, [{ rel: 'functions/f.js', path: join(root, 'functions/f.js') }])).toEqual([]);
  });

  it('reports schema errors with their place, bad expressions, and services.get of an unknown source', () => {
    const root = app({
      'data_sources/mongodb-atlas/config.json': { ...config, type: 'postgres' },
      'data_sources/mongodb-atlas/shop/orders/rules.json': { roles: [{ name: 'r', read: 'yes' }] },
      'data_sources/mongodb-atlas/default_rule.json': { roles: [{ name: 'r', apply_when: { '%%usr.id': 'x' } }] },
      'functions/f.js':
        "exports = async () => {\n  const a = context.services.get('mongodb-atlas');\n  return context.services.get(\"atlas\").db('x');\n};\n",
    });
    const found = checkDataSources(root, [{ rel: 'functions/f.js', path: join(root, 'functions/f.js') }]);
    const brief = found.map((d) => [d.rule, d.file, d.pointer ?? `${d.line}:${d.column}`]);
    expect(brief).toEqual(
      expect.arrayContaining([
        ['data-source-invalid', 'data_sources/mongodb-atlas/config.json', '/type'],
        ['rules-invalid', 'data_sources/mongodb-atlas/shop/orders/rules.json', '/roles/0/read'],
        ['invalid-expression', 'data_sources/mongodb-atlas/default_rule.json', '/roles/0/apply_when/%%usr.id'],
      ]),
    );
    // The config's type is wrong, so there is no source at all: both calls are named.
    expect(found.filter((d) => d.rule === 'unknown-data-source').map((d) => [d.line, d.column])).toEqual([
      [2, 13],
      [3, 10],
    ]);
    expect(found.find((d) => d.rule === 'unknown-data-source')!.severity).toBe('warning');
  });
});

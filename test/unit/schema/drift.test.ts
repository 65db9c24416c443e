// The JSON Schemas in schemas/ are the one source of the manifest's and fn.config.json's shape:
// the committed generated files must be exactly what scripts/gen-schema.mjs makes of them, the
// generated FunctionEntry type must have exactly the MANIFEST_FIELDS, and the validator must judge
// the reference's shapes right.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MANIFEST_FIELDS } from '../../../src/manifest/load.js';
import {
  schemaSource as manifestSchemaSource,
  validateManifestSchema,
  type FunctionEntry,
} from '../../../src/manifest/schema.generated.js';
import { validateFnConfigSchema, type FnConfig } from '../../../src/project/config-schema.generated.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface GenTarget {
  schema: string;
  out: string;
  validator: string;
}
interface GenSchema {
  targets: GenTarget[];
  generate(target: GenTarget): Promise<string>;
}
// A computed specifier: the script is plain JavaScript with no types of its own.
const loadGenerator = async (): Promise<GenSchema> =>
  (await import(new URL('../../../scripts/gen-schema.mjs', import.meta.url).href)) as GenSchema;

describe('generated files match the schemas', () => {
  it('covers every schema', async () => {
    const { targets } = await loadGenerator();
    expect(targets.map((t) => [t.schema, t.out])).toEqual([
      ['schemas/function-manifest.schema.json', 'src/manifest/schema.generated.ts'],
      ['schemas/fn-config.schema.json', 'src/project/config-schema.generated.ts'],
      ['schemas/data-source.schema.json', 'src/app/data-source-schema.generated.ts'],
      ['schemas/rules.schema.json', 'src/app/rules-schema.generated.ts'],
      ['schemas/http-endpoints.schema.json', 'src/app/endpoints-schema.generated.ts'],
      ['schemas/incoming-webhook.schema.json', 'src/app/webhook-schema.generated.ts'],
      ['schemas/trigger.schema.json', 'src/app/trigger-schema.generated.ts'],
    ]);
  });

  it('each committed generated file equals a fresh generation', async () => {
    const { targets, generate } = await loadGenerator();
    for (const target of targets) {
      const committed = readFileSync(repoRoot + target.out, 'utf8');
      const fresh = await generate(target);
      expect(fresh, `${target.out} is stale: run node scripts/gen-schema.mjs`).toBe(committed);
    }
  });

  it('the embedded schemaSource is the schema file', () => {
    expect(manifestSchemaSource).toEqual(JSON.parse(readFileSync(repoRoot + 'schemas/function-manifest.schema.json', 'utf8')));
  });
});

// The named keys of a type, without its index signature.
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
type ManifestField = (typeof MANIFEST_FIELDS)[number];

describe('FunctionEntry and MANIFEST_FIELDS agree', () => {
  it('at the type level', () => {
    expectTypeOf<KnownKeys<FunctionEntry>>().toEqualTypeOf<ManifestField>();
    expectTypeOf<ManifestField>().toEqualTypeOf<
      'name' | 'private' | 'can_evaluate' | 'disable_arg_logs' | 'run_as_system' | 'run_as_user_id' | 'run_as_user_id_script_source'
    >();
    expectTypeOf<FunctionEntry['name']>().toEqualTypeOf<string>();
    expectTypeOf<FunctionEntry['private']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<FunctionEntry['run_as_user_id']>().toEqualTypeOf<string | undefined>();
  });

  it('in the generated text of the interface', () => {
    const text = readFileSync(repoRoot + 'src/manifest/schema.generated.ts', 'utf8');
    const body = /export interface FunctionEntry \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
    const keys = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]);
    expect(keys).toEqual([...MANIFEST_FIELDS]);
  });
});

describe('validateManifestSchema', () => {
  const errorsOf = (value: unknown) =>
    validateManifestSchema(value) ? [] : (validateManifestSchema.errors ?? []).map((e) => [e.instancePath, e.keyword]);

  it.each<[string, unknown]>([
    [
      'the §1.2 minimal entries',
      [
        { name: 'sum' },
        { name: 'utils/add', private: true },
        { name: 'adminOnly', run_as_system: true, can_evaluate: { '%%user.custom_data.role': 'admin' } },
        { name: 'audit', disable_arg_logs: true, run_as_user_id_script_source: 'exports = () => ({ runAsSystem: true })' },
      ],
    ],
    ['an export that omits defaults', [{ name: 'onPing', private: true }]],
    ['an export entry with disable_arg_logs', [{ name: 'mongodbCrud_deleteOne', private: false, disable_arg_logs: true }]],
    [
      'an export that writes every field',
      [
        {
          name: 'endpoint/hello',
          private: false,
          can_evaluate: {},
          disable_arg_logs: false,
          run_as_system: false,
          run_as_user_id: '',
          run_as_user_id_script_source: '',
        },
      ],
    ],
    [
      'can_evaluate as a boolean',
      [
        { name: 'a', can_evaluate: true },
        { name: 'b', can_evaluate: false },
      ],
    ],
    ['unknown keys (a legacy id)', [{ name: 'a', id: '5f0c0ffee' }]],
    ['an empty manifest', []],
  ])('accepts %s', (_label, value) => {
    expect(errorsOf(value)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['name', { name: 1 }],
    ['private', { private: 'true' }],
    ['can_evaluate', { can_evaluate: [] }],
    ['can_evaluate', { can_evaluate: 'true' }],
    ['can_evaluate', { can_evaluate: null }],
    ['disable_arg_logs', { disable_arg_logs: 0 }],
    ['run_as_system', { run_as_system: null }],
    ['run_as_user_id', { run_as_user_id: 5 }],
    ['run_as_user_id_script_source', { run_as_user_id_script_source: false }],
  ])('rejects a wrong type for %s', (field, patch) => {
    expect(errorsOf([{ name: 'a', ...patch }])).toEqual([[`/0/${field}`, 'type']]);
  });

  it('rejects a missing or empty name, non-object entries and a non-array root', () => {
    expect(errorsOf([{ private: true }])).toEqual([['/0', 'required']]);
    expect(errorsOf([{ name: '' }])).toEqual([['/0/name', 'minLength']]);
    expect(errorsOf(['sum', null, [], 1])).toEqual([
      ['/0', 'type'],
      ['/1', 'type'],
      ['/2', 'type'],
      ['/3', 'type'],
    ]);
    expect(errorsOf({ name: 'a' })).toEqual([['', 'type']]);
  });

  it('reports every error, not just the first', () => {
    expect(
      errorsOf([
        { name: 'a', private: 1 },
        { name: 'b', run_as_system: 'yes' },
      ]),
    ).toEqual([
      ['/0/private', 'type'],
      ['/1/run_as_system', 'type'],
    ]);
  });
});

describe('validateFnConfigSchema', () => {
  it('accepts the DESIGN.md settings', () => {
    const config: FnConfig = {
      $schema: './node_modules/@fn-cli/fn/schemas/fn-config.schema.json',
      appId: 'shop',
      functionsDir: 'functions',
      types: { out: 'types/functions.d.ts', module: '@base44/sdk' },
      remotes: { local: { url: 'http://127.0.0.1:8787' }, prod: { url: 'https://fn.example.com', appId: 'shop-prod' } },
    };
    expect(validateFnConfigSchema(config)).toBe(true);
    expect(validateFnConfigSchema({})).toBe(true);
  });

  it('rejects unknown settings and wrong types', () => {
    expect(validateFnConfigSchema({ token: 'secret' })).toBe(false);
    expect(validateFnConfigSchema({ appId: 1 })).toBe(false);
    expect(validateFnConfigSchema({ remotes: { local: {} } })).toBe(false);
    expect(validateFnConfigSchema({ types: { emit: true } })).toBe(false);
  });
});

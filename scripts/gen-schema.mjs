// Derives code from the JSON Schemas in schemas/: TypeScript types (json-schema-to-typescript) and
// precompiled ajv validators (ajv standalone), so that loading a project never compiles a schema.
// `node scripts/gen-schema.mjs` writes the files; `--check` exits 1 when a committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export const targets = [
  { schema: 'schemas/function-manifest.schema.json', out: 'src/manifest/schema.generated.ts', validator: 'validateManifestSchema' },
  { schema: 'schemas/fn-config.schema.json', out: 'src/project/config-schema.generated.ts', validator: 'validateFnConfigSchema' },
  { schema: 'schemas/data-source.schema.json', out: 'src/app/data-source-schema.generated.ts', validator: 'validateDataSourceSchema' },
  { schema: 'schemas/rules.schema.json', out: 'src/app/rules-schema.generated.ts', validator: 'validateRulesSchema' },
  { schema: 'schemas/http-endpoints.schema.json', out: 'src/app/endpoints-schema.generated.ts', validator: 'validateEndpointsSchema' },
  { schema: 'schemas/incoming-webhook.schema.json', out: 'src/app/webhook-schema.generated.ts', validator: 'validateWebhookSchema' },
  { schema: 'schemas/trigger.schema.json', out: 'src/app/trigger-schema.generated.ts', validator: 'validateTriggerSchema' },
];

export async function generate(target) {
  const schema = JSON.parse(readFileSync(root + target.schema, 'utf8'));
  const types = await compile(schema, schema.title, {
    bannerComment: '',
    additionalProperties: true,
    format: true,
    strictIndexSignatures: true,
    style: { singleQuote: true, printWidth: 100 },
  });
  const ajv = new Ajv.default({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    unicode: false,
    logger: false,
    code: { source: true, esm: true, lines: true },
  });
  const validate = ajv.compile(schema);
  const code = standaloneCode.default(ajv, validate);
  return [
    '// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.',
    `// Generated from ${target.schema} by scripts/gen-schema.mjs. Do not edit; run \`node scripts/gen-schema.mjs\`.`,
    '',
    types.trim(),
    '',
    '// ---- precompiled validator (ajv standalone) ----',
    `const __validator = (() => {`,
    code
      .replace(/^"use strict";?/, '')
      .replace(/export const validate = /, 'const validate = ')
      .replace(/export default validate\d*;?/, '')
      .trim()
      .split('\n')
      .map((l) => '  ' + l)
      .join('\n')
      .replace(/\s+$/, ''),
    `  return ${/export const validate = (\w+)/.exec(code)?.[1] ?? 'validate'};`,
    `})() as unknown as SchemaValidator;`,
    '',
    'export interface SchemaError { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }',
    'export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };',
    `export const ${target.validator}: SchemaValidator = __validator;`,
    `export const schemaSource = ${JSON.stringify(schema)} as const;`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const t of targets) {
    const text = await generate(t);
    let current = '';
    try {
      current = readFileSync(root + t.out, 'utf8');
    } catch {}
    if (current === text) continue;
    if (check) {
      stale++;
      console.error(`${t.out} is stale: run node scripts/gen-schema.mjs`);
    } else {
      writeFileSync(root + t.out, text);
      console.error(`wrote ${t.out}`);
    }
  }
  process.exit(stale ? 1 : 0);
}

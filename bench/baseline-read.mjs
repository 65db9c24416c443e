// The floor fn validate is measured against: start Node, read every file under <app>/functions
// (recursively, skipping node_modules as fn does) and JSON.parse the manifest. Nothing else.
// Usage: node bench/baseline-read.mjs <app root>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const functionsDir = join(process.argv[2] ?? '.', 'functions');
let bytes = 0;
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(full);
    } else if (entry.isFile()) bytes += readFileSync(full, 'utf8').length;
  }
};
walk(functionsDir);
const manifest = JSON.parse(readFileSync(join(functionsDir, 'config.json'), 'utf8'));
if (!Array.isArray(manifest) || bytes === 0) process.exit(1);

// ts-morph, loaded with require(): it is CommonJS, and an ESM import would first scan its 1 MB
// for named exports (about 80 ms of every generation). Imported only by the inference modules.
import { createRequire } from 'node:module';
import type * as TsMorph from 'ts-morph';

export const tsMorph = createRequire(import.meta.url)('ts-morph') as typeof TsMorph;

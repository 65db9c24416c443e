// Preloaded with `node --import ./bench/trace-loads.mjs`: appends every module Node resolves (ESM
// imports through a resolve hook, CommonJS requires through Module._load) to the file named by
// FN_BENCH_TRACE, one per line, so a benchmark can say which packages a command loaded.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const trace = process.env.FN_BENCH_TRACE;
if (trace) {
  register('./trace-hooks.mjs', import.meta.url, { data: { trace } });
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    let line = `cjs:${request}`;
    try {
      line = Module.isBuiltin(request)
        ? `node:${request.replace(/^node:/, '')}`
        : pathToFileURL(Module._resolveFilename(request, parent, isMain)).href;
    } catch {
      // unresolvable: Module._load below throws the real error
    }
    appendFileSync(trace, line + '\n');
    return load.apply(this, arguments);
  };
}

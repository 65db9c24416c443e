// The AppBundle of a deployed version: its manifest text parsed with the same model as a folder,
// its sources read (and hash-checked) from the store.
import { manifestFromText } from '../manifest/load.js';
import { sourcePathOf } from '../manifest/names.js';
import type { SourceFile } from '../manifest/sources.js';
import type { AppBundle, BundledFunction } from './types.js';

export function bundleDeployment(appId: string, version: number, manifestText: string, functions: Record<string, string>, readSource: (hash: string) => string): AppBundle {
  const sources = new Map<string, SourceFile>(Object.keys(functions).map((name) => [name, { name, path: '', relPath: sourcePathOf(name) }]));
  const manifest = manifestFromText(manifestText, sources);
  const entries = new Map(manifest.entries.map((e) => [e.name, e] as const));
  const out: Record<string, BundledFunction> = Object.create(null) as Record<string, BundledFunction>;
  for (const [name, hash] of Object.entries(functions)) {
    const e = entries.get(name);
    out[name] = {
      name,
      private: e?.private ?? false,
      canEvaluate: e?.canEvaluate ?? {},
      disableArgLogs: e?.disableArgLogs ?? false,
      runAsSystem: e?.runAsSystem ?? false,
      runAsUserId: e?.runAsUserId ?? '',
      runAsUserIdScriptSource: e?.runAsUserIdScriptSource ?? '',
      source: readSource(hash),
    };
  }
  return { appId, version: String(version), functions: out, values: {}, environment: { tag: '', values: {} }, modulesDir: undefined };
}

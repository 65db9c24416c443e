// The host's side of an app's data: one backend per data source, chosen once, shared by every
// worker thread of the app through the data bridge (a MessagePort each). A connection string in
// FN_DATA_SOURCE_<NAME>_URI selects a real MongoDB; otherwise the embedded engine under
// <app>/.fn/data/<name>/, where the embedded engine is allowed.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { join } from 'node:path';
import { serveDataPort } from './bridge.js';
import { DriverBackend } from './driver.js';
import { EmbeddedEngine } from './embedded.js';
import { DataError } from './errors.js';
import type { DataBackend, DataSourceSpec } from './types.js';

/** The variable that holds a data source's connection string: mongodb-atlas → FN_DATA_SOURCE_MONGODB_ATLAS_URI. */
export function uriVariable(name: string): string {
  return `FN_DATA_SOURCE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URI`;
}

export interface DataHubOptions {
  /** The app root: the embedded engine keeps its files in <root>/.fn/data/<source>/. */
  root: string;
  sources: DataSourceSpec[];
  env: Record<string, string | undefined>;
  /** Whether a source without a connection string may use the embedded engine. */
  embedded: boolean;
  /** Embedded engine in memory only (tests, benchmarks). */
  memory?: boolean;
  serverSelectionTimeoutMS?: number;
}

export interface BackendInfo {
  source: string;
  kind: 'embedded' | 'mongodb';
  description: string;
  /** The variable that would select a real MongoDB. */
  variable: string;
}

export class DataHub {
  private readonly backends = new Map<string, { backend: DataBackend; info: BackendInfo }>();
  private sources: DataSourceSpec[] = [];
  private readonly ports = new Set<MessagePort>();

  constructor(private readonly options: DataHubOptions) {
    this.setSources(options.sources);
  }

  /** Data sources without a connection string where the embedded engine is not allowed. */
  static missingUris(sources: DataSourceSpec[], env: Record<string, string | undefined>): string[] {
    return sources.filter((s) => !env[uriVariable(s.name)]).map((s) => uriVariable(s.name));
  }

  /** The sources the next workers see (a reload); backends of sources still declared are kept. */
  setSources(sources: DataSourceSpec[]): void {
    for (const s of sources) {
      if (this.backends.has(s.name)) continue;
      const variable = uriVariable(s.name);
      const uri = this.options.env[variable];
      let backend: DataBackend;
      let kind: BackendInfo['kind'];
      if (uri) {
        backend = new DriverBackend(uri, this.options.serverSelectionTimeoutMS);
        kind = 'mongodb';
      } else if (this.options.embedded) {
        backend = new EmbeddedEngine(this.options.memory ? undefined : join(this.options.root, '.fn', 'data', s.name));
        kind = 'embedded';
      } else {
        throw new DataError(`data source "${s.name}" has no connection string: set ${variable}`);
      }
      const description = kind === 'embedded' ? (this.options.memory ? 'embedded engine (in memory)' : `embedded engine (.fn/data/${s.name})`) : backend.description;
      this.backends.set(s.name, { backend, info: { source: s.name, kind, description, variable } });
    }
    this.sources = sources;
  }

  get infos(): BackendInfo[] {
    return this.sources.map((s) => this.backends.get(s.name)!.info);
  }

  backend(source: string): DataBackend {
    const b = this.backends.get(source);
    if (!b) throw new DataError(`no data source named "${source}"`);
    return b.backend;
  }

  /** A port for one more worker, and the sources (with their rules) it serves. */
  connect(): { port: MessagePort; sources: DataSourceSpec[] } {
    const { port1, port2 } = new MessageChannel();
    serveDataPort(port1, (name) => this.backend(name));
    port1.unref();
    this.ports.add(port1);
    port1.on('close', () => this.ports.delete(port1));
    return { port: port2, sources: this.sources };
  }

  async close(): Promise<void> {
    for (const p of this.ports) p.close();
    this.ports.clear();
    await Promise.all([...this.backends.values()].map((b) => b.backend.close()));
    this.backends.clear();
  }
}

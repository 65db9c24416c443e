// context.services inside a worker: the data sources of the app, reached through the data bridge
// (src/data/bridge.ts) from the one place that holds them (the DataHub of the host thread). In user
// context every collection is wrapped in the rules layer; in system context it is not.
import type { MessagePort } from 'node:worker_threads';
import { RemoteData } from '../data/bridge.js';
import { DataError, ErrorCodes } from '../data/errors.js';
import { RulesCollection, type RuleCaller } from '../data/rules.js';
import { serviceClient } from '../data/service.js';
import { bindSession } from '../data/session.js';
import type { DataSourceSpec } from '../data/types.js';

/** What a worker gets from the host: its end of the bridge and the sources with their rules. */
export interface DataLink {
  port: MessagePort;
  /** Where the data thread signals each answer: the worker waits for it synchronously. */
  signal?: SharedArrayBuffer;
  sources: DataSourceSpec[];
}

/** The host's side of the hook: a link for each worker it starts (src/data/hub.ts). */
export interface DataLinkSource {
  connect(): DataLink;
}

export interface ServiceCaller extends RuleCaller {
  system: boolean;
}

export class DataServices {
  private readonly remote: RemoteData;
  private readonly sources: Map<string, DataSourceSpec>;
  /** Whether a call since the last endCall() reached a data source. */
  private used = false;

  constructor(link: DataLink) {
    this.remote = new RemoteData(link.port, link.signal && new Int32Array(link.signal));
    this.sources = new Map(link.sources.map((s) => [s.name, s]));
  }

  /** context.services.get(name) for one caller. */
  get(name: unknown, caller: ServiceCaller): object {
    const spec = typeof name === 'string' ? this.sources.get(name) : undefined;
    if (!spec) {
      const known = [...this.sources.keys()].map((n) => JSON.stringify(n)).join(', ');
      throw new DataError(
        `context.services.get(${JSON.stringify(name)}): there is no data source of that name; ${known ? `the app has ${known}` : 'the app has none (add data_sources/<name>/config.json)'}`,
        ErrorCodes.BAD_ARGUMENT,
      );
    }
    const source = this.remote.source(spec.name);
    this.used = true;
    const { system, ...who } = caller;
    return serviceClient({
      name: spec.name,
      collection: (db, coll, session) => {
        const c = session ? bindSession(source.collection(db, coll), session) : source.collection(db, coll);
        return system ? c : new RulesCollection(c, db, coll, spec.rules, who);
      },
      collectionNames: (db) => source.collectionNames(db),
      databaseNames: () => source.databaseNames(),
      startSession: () => source.startSession(),
    });
  }

  /** At the end of each call: its open transactions are aborted, its sessions ended, its change streams closed. */
  endCall(): void {
    if (this.used) this.remote.release();
    this.used = false;
  }
}

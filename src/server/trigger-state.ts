// Where each trigger got to, so that a restart neither loses nor repeats a tick or an event: the
// last tick a scheduled trigger fired for, the resume token of the last event a database trigger
// handled (and which stream it belongs to). Written after the function ran, atomically. The
// interface is what another backend (PostgreSQL) would implement; the file one keeps one small
// JSON file per app.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../manifest/write.js';

export interface TriggerState {
  /** Scheduled: the last tick fired (ms since the epoch, a whole UTC minute). */
  tick?: number;
  /** Database: the resume token after the last event handled. */
  token?: { _data: string };
  /** Database: the stream the token belongs to (`<source>/<db>/<coll>`); another stream starts afresh. */
  stream?: string;
}

export interface TriggerStateStore {
  /** Every trigger's state of one app, by trigger name. */
  load(appId: string): Record<string, TriggerState>;
  /** Replaces one trigger's state, durably, before it returns. */
  save(appId: string, trigger: string, state: TriggerState): void;
}

/** One JSON file per app, at `pathOf(appId)`, rewritten whole by rename. */
export class FileTriggerStateStore implements TriggerStateStore {
  private readonly cache = new Map<string, Record<string, TriggerState>>();

  constructor(private readonly pathOf: (appId: string) => string) {}

  load(appId: string): Record<string, TriggerState> {
    const known = this.cache.get(appId);
    if (known) return { ...known };
    let states: Record<string, TriggerState> = {};
    try {
      const value = JSON.parse(readFileSync(this.pathOf(appId), 'utf8')) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) states = value as Record<string, TriggerState>;
    } catch {
      // None yet (or unreadable): every trigger starts from now.
    }
    this.cache.set(appId, states);
    return { ...states };
  }

  save(appId: string, trigger: string, state: TriggerState): void {
    const states = { ...this.load(appId), [trigger]: state };
    const path = this.pathOf(appId);
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, JSON.stringify(states, null, 2) + '\n');
    this.cache.set(appId, states);
  }
}

/** Keeps state in memory only (tests, fn trigger run). */
export class MemoryTriggerStateStore implements TriggerStateStore {
  private readonly states = new Map<string, Record<string, TriggerState>>();
  load(appId: string): Record<string, TriggerState> {
    return { ...this.states.get(appId) };
  }
  save(appId: string, trigger: string, state: TriggerState): void {
    this.states.set(appId, { ...this.states.get(appId), [trigger]: state });
  }
}

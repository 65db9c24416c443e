// The recent call log of an app: a bounded ring, newest first when read.
import type { LogLine, RunAs } from '../runtime/types.js';

export interface CallLogEntry {
  id: number;
  time: string;
  appId: string;
  function: string;
  via: 'client' | 'admin';
  /** The caller: a user id, "anonymous", or "service". */
  user: string;
  runAs: RunAs;
  status: number;
  durationMs: number;
  /** Left out when the function sets disable_arg_logs. */
  arguments?: unknown[];
  logs: LogLine[];
  error?: { code: string; message: string };
}

export class CallLog {
  private readonly entries: CallLogEntry[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 1000) {}

  /** Takes the entry (it becomes the logged one, with an id). */
  add(entry: Omit<CallLogEntry, 'id'>): CallLogEntry {
    const full = entry as CallLogEntry;
    full.id = this.nextId++;
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.shift();
    return full;
  }

  list(filter: { appId?: string; function?: string; limit?: number } = {}): CallLogEntry[] {
    const out: CallLogEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < (filter.limit ?? 100); i--) {
      const e = this.entries[i]!;
      if (filter.appId !== undefined && e.appId !== filter.appId) continue;
      if (filter.function !== undefined && e.function !== filter.function) continue;
      out.push(e);
    }
    return out;
  }
}

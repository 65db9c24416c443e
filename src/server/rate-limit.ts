// Token buckets by key (a client address, an account): `capacity` attempts at once, refilled at
// `perSecond`. Pure apart from the clock it is given; the keys it remembers are bounded (the
// least recently seen go first), so a flood of addresses costs memory in proportion to the cap.

export interface BucketRate {
  capacity: number;
  perSecond: number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly rate: BucketRate,
    private readonly now: () => number = () => Date.now(),
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one attempt for `key`: allowed, or how long to wait for the next one. */
  take(key: string): Take {
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = this.rate.capacity;
    if (bucket) {
      tokens = Math.min(this.rate.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond);
      // Re-inserted: the Map's order is the order keys were last seen.
      this.buckets.delete(key);
    }
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.rate.perSecond)) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return { ok: true };
  }

  /** Forgets a key (a successful login clears its account's failures). */
  reset(key: string): void {
    this.buckets.delete(key);
  }
}

/** Logins and registrations: per client address, and per account (an email, a key). */
export const AUTH_RATES = {
  /** 100 at once, then two a second (120 a minute) from one address (an office behind one NAT). */
  perAddress: { capacity: 100, perSecond: 2 },
  /** 10 at once, then one every 6 s (10 a minute) for one account. */
  perAccount: { capacity: 10, perSecond: 1 / 6 },
} as const satisfies Record<string, BucketRate>;

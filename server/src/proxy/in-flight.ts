/**
 * Counts of proxied calls in flight, per project (and mode) or per project and custom origin,
 * in this process. They guard this process's upstream connections (a resource cap, not a
 * quota): a tenant at its cap gets a 429 before it can fill a pool every tenant shares.
 */

/** One counter. `retired` once dropped from the table: whoever cached it looks it up again. */
export class Slot {
  n = 0;
  retired = false;
}

/**
 * Slots by name, each also cached against a long-lived owner object (a cached principal, a
 * cached provider key), so that a warm call finds its slot with one WeakMap lookup and makes no
 * string. Idle slots are dropped only when the table grows large (many origins over time), not
 * at every zero, which would rebuild a single tenant's slot on every call.
 */
export class InFlight {
  private readonly byName = new Map<string, Slot>();
  private readonly byOwner = new WeakMap<object, Slot>();

  /** `limit`: calls per slot; 0 means no cap. `maxSlots`: table size that triggers a sweep of idle slots. */
  constructor(
    readonly limit: number,
    private readonly maxSlots = 10_000,
  ) {}

  /** The slot cached for `owner`, if still current. */
  cached(owner: object): Slot | undefined {
    const slot = this.byOwner.get(owner);
    return slot && !slot.retired ? slot : undefined;
  }

  /** The slot named `name`, cached for `owner` from now on. */
  bind(owner: object, name: string): Slot {
    let slot = this.byName.get(name);
    if (!slot) {
      if (this.byName.size >= this.maxSlots) this.sweep();
      slot = new Slot();
      this.byName.set(name, slot);
    }
    this.byOwner.set(owner, slot);
    return slot;
  }

  /** Takes a place in `slot`; false when it is full. */
  take(slot: Slot): boolean {
    if (this.limit > 0 && slot.n >= this.limit) return false;
    slot.n++;
    return true;
  }

  release(slot: Slot): void {
    slot.n--;
  }

  private sweep(): void {
    for (const [name, slot] of this.byName) {
      if (slot.n > 0) continue;
      slot.retired = true;
      this.byName.delete(name);
    }
  }
}

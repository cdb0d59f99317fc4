/** A timer of a TimerQueue: due at `due` (performance.now() ms), in a list of timers of one delay. */
interface Entry {
  due: number;
  fn: () => void;
  list: List;
  /** In its list, pending. */
  linked: boolean;
  /** Taken out of its list as due, its function not called yet (a cancel in between clears it). */
  firing: boolean;
  prev?: Entry;
  next?: Entry;
}

/** Timers of one delay, in the order they were set, which is also the order they fall due. */
interface List {
  delay: number;
  head?: Entry;
  tail?: Entry;
}

/** Node's setTimeout: a delay outside 1..2^31-1 ms is 1 ms. */
const TIMEOUT_MAX = 2 ** 31 - 1;

/**
 * Many timers on one `setTimeout`, for timeouts that are nearly always cancelled (a watchdog per
 * bus transaction or device operation): setting and cancelling one is a list insert and unlink, not a
 * Node timer each, which on a busy bus costs more than the transaction. Each timer still fires no
 * earlier than its delay after it was set, in due order; a cancelled one never fires. The one real
 * timer stays armed for the earliest pending timer and holds the process open only while a timer is
 * pending, as a `setTimeout` of each would.
 */
export class TimerQueue {
  private readonly lists = new Map<number, List>();
  private pending = 0;
  private handle: NodeJS.Timeout | undefined;
  /** When the armed handle fires (performance.now() ms). */
  private armedFor = Infinity;

  /** Calls `fn` once `delayMs` real ms have passed, unless the returned function cancels it first. */
  set(delayMs: number, fn: () => void): () => void {
    const delay = delayMs >= 1 && delayMs <= TIMEOUT_MAX ? delayMs : 1;
    let list = this.lists.get(delay);
    if (!list) {
      list = { delay };
      this.lists.set(delay, list);
    }
    const entry: Entry = { due: performance.now() + delay, fn, list, linked: true, firing: false };
    if (list.tail) {
      list.tail.next = entry;
      entry.prev = list.tail;
    } else {
      list.head = entry;
    }
    list.tail = entry;
    if (this.pending++ === 0) this.handle?.ref();
    if (entry.due < this.armedFor) this.arm(entry.due);
    // Twice is harmless, and so is a cancel by another timer due in the same wake-up (it never fires).
    return () => {
      entry.firing = false;
      if (entry.linked) this.remove(entry);
    };
  }

  /** Whether a timer is pending (it then holds the process open). */
  get size(): number {
    return this.pending;
  }

  private remove(entry: Entry): void {
    const list = entry.list;
    entry.linked = false;
    if (entry.prev) entry.prev.next = entry.next;
    else list.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else list.tail = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    // An empty list stays for the next timer of its delay (one per transaction, set and cancelled
    // in turn); `fire` drops the ones still empty.
    // The real timer stays armed (re-arming costs more than a wake-up that finds nothing due);
    // it no longer holds the process once nothing is pending.
    if (--this.pending === 0) this.handle?.unref();
  }

  private arm(due: number): void {
    if (this.handle) clearTimeout(this.handle);
    this.armedFor = due;
    this.handle = setTimeout(() => this.fire(), Math.max(1, Math.ceil(due - performance.now())));
    if (this.pending === 0) this.handle.unref();
  }

  private fire(): void {
    this.handle = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    const expired: Entry[] = [];
    for (const list of this.lists.values()) {
      if (!list.head) this.lists.delete(list.delay);
      for (let e = list.head; e && e.due <= now; e = e.next) expired.push(e);
    }
    if (expired.length > 1) expired.sort((a, b) => a.due - b.due);
    for (const e of expired) {
      this.remove(e);
      e.firing = true;
    }
    let first: unknown;
    let failed = false;
    try {
      for (const e of expired) {
        if (!e.firing) continue; // an earlier timer of this wake-up cancelled it
        e.firing = false;
        try {
          e.fn();
        } catch (err) {
          if (!failed) first = err;
          failed = true;
        }
      }
    } finally {
      this.rearm();
    }
    // As a throwing setTimeout callback would: uncaught, after the other timers ran.
    if (failed) throw first;
  }

  private rearm(): void {
    let earliest = Infinity;
    for (const list of this.lists.values())
      if (list.head && list.head.due < earliest) earliest = list.head.due;
    if (earliest < this.armedFor) this.arm(earliest);
  }
}

/** The process's one queue of real-time timers (every clock's timers run in real time). */
export const realTimers = new TimerQueue();

/**
 * Runs a callback for each scheduled item when its time comes, with **one** timer for all of them.
 *
 * A manager caches up to tens of thousands of scopes; a Node timer per scope would cost hundreds of
 * bytes each and keep an event-loop handle alive per user. Instead, items sit in an indexed binary
 * min-heap ordered by due time, and a single `unref()`'d timer is armed for the earliest. Cancelling
 * an item (its token was evicted or replaced) removes it from the heap in O(log n), so nothing is
 * left behind.
 */

/** Timer functions, injectable so that tests can use fake timers or a manual clock. */
export interface TimerApi {
  /** Calls `callback` once, after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer that `setTimeout` returned, if it has not fired. */
  clearTimeout(handle: unknown): void;
}

/** Something that can be scheduled. The scheduler owns `heapIndex` (-1 when not scheduled). */
export interface Scheduled {
  /** When it is due, in ms on the scheduler's clock. */
  dueAt: number;
  /** Position in the heap; -1 when not scheduled. Written only by the scheduler. */
  heapIndex: number;
}

/** setTimeout cannot wait longer than 2^31−1 ms; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** After a timer that found nothing due, the next check waits at least this long. */
const IDLE_RECHECK_MS = 50;

const defaultTimers: TimerApi = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A heap of due items and the one timer that fires for the earliest. */
export class RefreshScheduler<T extends Scheduled> {
  /** Invariant: heap[i].heapIndex === i, and heap[i].dueAt <= heap[2i+1|2i+2].dueAt. */
  readonly #heap: T[] = [];
  readonly #now: () => number;
  readonly #timers: TimerApi;
  readonly #onDue: (item: T) => void;
  /** The armed timer, if any, and the due time it was armed for. */
  #timer: unknown = undefined;
  #timerAt = Infinity;
  #stopped = false;

  constructor(onDue: (item: T) => void, { now = Date.now, timers = defaultTimers }: { now?: () => number; timers?: TimerApi } = {}) {
    this.#onDue = onDue;
    this.#now = now;
    this.#timers = timers;
  }

  /** How many items are scheduled. */
  get size(): number {
    return this.#heap.length;
  }

  /** Whether a timer is armed (at most one ever is). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Schedules `item` at `item.dueAt`, or moves it there if it is already scheduled. */
  schedule(item: T): void {
    if (this.#stopped) return;
    if (item.heapIndex >= 0) {
      this.#fix(item.heapIndex);
    } else {
      item.heapIndex = this.#heap.length;
      this.#heap.push(item);
      this.#up(item.heapIndex);
    }
    this.#arm();
  }

  /** Removes `item` if it is scheduled. */
  cancel(item: T): void {
    if (!this.#remove(item)) return;
    if (this.#heap.length === 0) this.#disarm();
    else this.#arm();
  }

  /** Takes `item` out of the heap without touching the timer; false if it was not scheduled. */
  #remove(item: T): boolean {
    const i = item.heapIndex;
    if (i < 0 || this.#heap[i] !== item) return false;
    const last = this.#heap.pop()!;
    item.heapIndex = -1;
    if (last !== item) {
      this.#heap[i] = last;
      last.heapIndex = i;
      this.#fix(i);
    }
    return true;
  }

  /** Cancels everything and never schedules again. */
  stop(): void {
    this.#stopped = true;
    for (const item of this.#heap) item.heapIndex = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #run = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    // Take every due item first, so that callbacks that reschedule cannot starve the loop.
    const due: T[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.dueAt <= now) {
      const item = this.#heap[0]!;
      this.#remove(item); // the timer is armed once, after the loop
      due.push(item);
    }
    for (const item of due) this.#onDue(item);
    // Nothing was due: the timer ran ahead of the injected clock. Wait a little before looking
    // again, so that a clock that lags (or is frozen, in a test) cannot make the timer spin.
    this.#arm(due.length === 0 ? IDLE_RECHECK_MS : 0);
  };

  #arm(minDelay = 0): void {
    if (this.#stopped) return;
    const first = this.#heap[0];
    if (first === undefined) return this.#disarm();
    if (this.#timer !== undefined && this.#timerAt === first.dueAt) return;
    this.#disarm();
    const delay = Math.min(Math.max(minDelay, first.dueAt - this.#now()), MAX_TIMER_MS);
    const handle = this.#timers.setTimeout(this.#run, delay);
    // Scheduled refreshes are an optimisation: they must never keep a process alive.
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.#timer = handle;
    this.#timerAt = first.dueAt;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #fix(i: number): void {
    if (!this.#up(i)) this.#down(i);
  }

  #up(i: number): boolean {
    const heap = this.#heap;
    const item = heap[i]!;
    let moved = false;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.dueAt <= item.dueAt) break;
      heap[i] = heap[parent]!;
      heap[i]!.heapIndex = i;
      i = parent;
      moved = true;
    }
    heap[i] = item;
    item.heapIndex = i;
    return moved;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const item = heap[i]!;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]!.dueAt < heap[left]!.dueAt ? right : left;
      if (heap[child]!.dueAt >= item.dueAt) break;
      heap[i] = heap[child]!;
      heap[i]!.heapIndex = i;
      i = child;
    }
    heap[i] = item;
    item.heapIndex = i;
  }
}

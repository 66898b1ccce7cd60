/**
 * Runs tasks one after another per key, in the order they were given, and tasks of different
 * keys side by side. A task starts once the one before it under its key has settled, whether
 * it succeeded or failed: a failure is its caller's to handle and holds up nothing after it.
 */
export class SerialByKey {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key);
    const result = before ? before.then(task) : task();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // the last task of a key forgets it, so keys seen once are not kept for ever
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task running or waiting. */
  get busy(): number {
    return this.tails.size;
  }
}

/**
 * Runs async tasks one after another (a shared GPU readback buffer, a single device queue). A task
 * whose signal aborts while it waits is dropped before it starts, and its caller is rejected at
 * once with the signal's reason; a task already running finishes (its work cannot be recalled).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let onAbort = (): void => undefined;
    const dropped = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    const turn = this.tail.then(() => {
      signal?.removeEventListener("abort", onAbort);
      signal?.throwIfAborted();
      return task();
    });
    this.tail = turn.catch(() => undefined);
    return signal ? Promise.race([turn, dropped]) : turn;
  }
}

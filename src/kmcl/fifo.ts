/** A first-in first-out list over an array with a moving head: O(1) push and shift, no per-item allocation. */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes one item wherever it is; false when it is not queued. */
  remove(item: T): boolean {
    const at = this.items.indexOf(item, this.head);
    if (at < 0) return false;
    this.items.splice(at, 1);
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return true;
  }

  /** Takes every item out, in order. */
  drain(): T[] {
    const taken = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return taken;
  }
}

/**
 * The hub app's router: Hono's own (RegExpRouter, or TrieRouter when the route table is
 * beyond it, as the hub's is), with its answers remembered by method and path. An agent's
 * poll and heartbeat are always the same two paths, and matching them against the whole
 * table (~200 entries, a trie walk and its allocations) was a tenth of an empty poll's CPU;
 * a remembered answer is one map lookup.
 *
 * A match depends only on the method, the path and the table; the table is complete
 * before the first request (createApp), and adding a route forgets everything. At most
 * MAX_REMEMBERED answers are kept; past that the memory starts over, so paths with ids
 * (a job's uploads) or a caller sending endless distinct paths cost only the match they
 * would cost anyway, and the steady paths are back after one request each. Answers are
 * shared between requests with the same path, which Hono only reads.
 */
import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";

export const MAX_REMEMBERED = 256;

export class MemoRouter<T> implements Router<T> {
  private readonly answers = new Map<string, Result<T>>();

  constructor(
    private readonly inner: Router<T> = new SmartRouter<T>({
      routers: [new RegExpRouter<T>(), new TrieRouter<T>()],
    }),
  ) {}

  get name(): string {
    return `MemoRouter + ${this.inner.name}`;
  }

  add(method: string, path: string, handler: T): void {
    this.answers.clear();
    this.inner.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const key = `${method} ${path}`;
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    const answer = this.inner.match(method, path);
    if (this.answers.size >= MAX_REMEMBERED) this.answers.clear();
    this.answers.set(key, answer);
    return answer;
  }
}

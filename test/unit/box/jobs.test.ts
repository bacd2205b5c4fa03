import { describe, expect, test } from "bun:test";
import { type JobContext, type JobOutcome, JobRegistry } from "../../../src/box/jobs.ts";
import { AppError } from "../../../src/shared/errors.ts";

/** A job whose end the test decides. */
function controllable() {
  let resolve: (outcome: JobOutcome) => void = () => {};
  let context: JobContext | undefined;
  const started = Promise.withResolvers<void>();
  const run = (ctx: JobContext) => {
    context = ctx;
    started.resolve();
    return new Promise<JobOutcome>((r) => {
      resolve = r;
    });
  };
  return {
    run,
    started: started.promise,
    finish: (outcome: JobOutcome) => resolve(outcome),
    get ctx() {
      return context as JobContext;
    },
  };
}

const ok = async () => ({ exitCode: 0, ok: true });

describe("JobRegistry", () => {
  test("a job goes queued → running → done with its exit code and log", async () => {
    const registry = new JobRegistry();
    const job = controllable();
    const created = registry.start("r1", "check", false, job.run);
    expect(created).toMatchObject({ repo: "r1", kind: "check", exit_code: -1, finished_at: "" });
    expect(created.id).toMatch(/^j_[0-9a-f]{12}$/);
    await job.started;
    expect(registry.get(created.id)?.status).toBe("running");
    expect(registry.get(created.id)?.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    job.ctx.log("Starting repository check");
    job.finish({ exitCode: 0, ok: true });
    const done = await registry.waitFor(created.id);
    expect(done).toMatchObject({
      status: "done",
      exit_code: 0,
      log_tail: ["Starting repository check"],
    });
    expect(done?.finished_at).not.toBe("");
  });

  test("a failing or throwing job ends in error, with the reason in its log", async () => {
    const registry = new JobRegistry();
    const failed = registry.start("r1", "prune", true, async () => ({ exitCode: 2, ok: false }));
    expect(await registry.waitFor(failed.id)).toMatchObject({
      status: "error",
      exit_code: 2,
      dry_run: true,
    });
    const thrown = registry.start("r2", "compact", false, async () => {
      throw new Error("borg not found");
    });
    expect(await registry.waitFor(thrown.id)).toMatchObject({
      status: "error",
      exit_code: -1,
      log_tail: ["borg not found"],
    });
  });

  test("one active job per repo: a second answers conflict, another repo is fine", async () => {
    const registry = new JobRegistry();
    const job = controllable();
    registry.start("r1", "check", false, job.run);
    expect(() => registry.start("r1", "compact", false, ok)).toThrow(AppError);
    const other = registry.start("r2", "compact", false, ok);
    expect(other.repo).toBe("r2");
    job.finish({ exitCode: 0, ok: true });
    await job.started;
    await registry.waitFor(registry.list().find((j) => j.repo === "r1")?.id as string);
    // Once the first has finished, the repo takes a new job.
    expect(registry.start("r1", "compact", false, ok).kind).toBe("compact");
  });

  test("only `concurrency` jobs run at once; the rest stay queued", async () => {
    const registry = new JobRegistry({ concurrency: 1 });
    const first = controllable();
    const a = registry.start("a", "check", false, first.run);
    const b = registry.start("b", "check", false, ok);
    await first.started;
    expect(registry.get(a.id)?.status).toBe("running");
    expect(registry.get(b.id)?.status).toBe("queued");
    first.finish({ exitCode: 0, ok: true });
    expect((await registry.waitFor(b.id))?.status).toBe("done");
  });

  test("capped: the oldest finished job is evicted first, active ones never", async () => {
    const registry = new JobRegistry({ maxJobs: 3, concurrency: 3 });
    const long = controllable();
    const active = registry.start("busy", "check", false, long.run);
    const f1 = registry.start("f1", "check", false, ok);
    const f2 = registry.start("f2", "check", false, ok);
    await registry.waitFor(f1.id);
    await registry.waitFor(f2.id);
    const f3 = registry.start("f3", "check", false, ok);
    const ids = registry.list().map((j) => j.id);
    expect(ids).toEqual([f3.id, f2.id, active.id]);
    await registry.waitFor(f3.id);
    // Fill with active jobs only: nothing can be evicted, so a new one is refused.
    const a = controllable();
    const b = controllable();
    registry.start("x", "check", false, a.run);
    registry.start("y", "check", false, b.run);
    expect(() => registry.start("z", "check", false, ok)).toThrow(/queued or running jobs/);
    long.finish({ exitCode: 0, ok: true });
    a.finish({ exitCode: 0, ok: true });
    b.finish({ exitCode: 0, ok: true });
  });

  test("the log keeps only the last N lines", async () => {
    const registry = new JobRegistry({ maxLogLines: 3 });
    const job = registry.start("r", "check", false, async (ctx) => {
      for (let i = 1; i <= 10; i++) ctx.log(`line ${i}`);
      return { exitCode: 0, ok: true };
    });
    expect((await registry.waitFor(job.id))?.log_tail).toEqual(["line 8", "line 9", "line 10"]);
  });

  test("subscribers see log lines and status changes until the end", async () => {
    const registry = new JobRegistry();
    const job = controllable();
    const created = registry.start("r", "check", false, job.run);
    const events: string[] = [];
    registry.subscribe(created.id, (e) =>
      events.push(e.type === "log" ? `log:${e.line}` : `status:${e.job.status}`),
    );
    await job.started;
    job.ctx.log("hello");
    job.finish({ exitCode: 0, ok: true });
    await registry.waitFor(created.id);
    // The job was already running when subscribe() was called: no event for that.
    expect(events).toEqual(["log:hello", "status:done"]);
  });

  test("stopAll aborts running jobs and cancels queued ones", async () => {
    const registry = new JobRegistry({ concurrency: 1 });
    const running = registry.start("a", "check", false, (ctx) => {
      return new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => resolve({ exitCode: 130, ok: false }));
      });
    });
    const queued = registry.start("b", "check", false, ok);
    await Bun.sleep(0);
    await registry.stopAll();
    expect(registry.get(running.id)).toMatchObject({ status: "error", exit_code: 130 });
    expect(registry.get(queued.id)).toMatchObject({
      status: "error",
      log_tail: ["canceled before start"],
    });
  });

  test("returned records are copies: callers cannot change the registry", () => {
    const registry = new JobRegistry();
    const job = registry.start("r", "check", false, ok);
    job.log_tail.push("forged");
    expect(registry.get(job.id)?.log_tail).toEqual([]);
  });
});

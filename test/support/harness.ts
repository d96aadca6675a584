// Runs the real commands against the real broker and the local fakes: in-process (reportLag with
// its Io) for speed and log capture, or as a child process (bin/report-lag) where signals matter.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { reportLag } from "../../src/cli/report-lag.ts";
import { displayLag } from "../../src/cli/display-lag.ts";
import type { Io } from "../../src/cli/io.ts";
import { AMQP_URL, openTestBroker, type TestBroker } from "./broker.ts";
import { startFakeHg, type FakeHg } from "./fake-hg.ts";
import { startFakePhabricator, type FakePhabricator } from "./fake-phabricator.ts";
import { changegroupV2, commitsOf } from "./hgpush.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  logs: Array<Record<string, unknown>>;
}

export interface Harness {
  broker: TestBroker;
  hg: FakeHg;
  phab: FakePhabricator;
  env: Record<string, string>;
  /** Adds a push to the pushlog, optionally mirrors its commits, and publishes its message. */
  push(
    repository: string,
    pushId: number,
    time: number,
    options?: {
      mirrored?: boolean;
      callsign?: string;
      commits?: number;
      replicated?: boolean;
      publish?: boolean;
      messageTime?: number;
      /**
       * Git commits for its changesets (git-hg-sync's, in the pushlog's git_changesets): null at
       * `nullAt`; mirrored (in `callsign`, by default the repository's) unless `mirrored` is false.
       */
      git?: { mirrored?: boolean; nullAt?: number[]; callsign?: string };
    },
  ): Promise<string[]>;
  /**
   * A Try push by the code-review bot: a stacked patch and the try_task_config commit naming `diffPHID`
   * (mozilla/code-review bot/code_review_bot/vcs.py). Without `diffPHID`, a push people made themselves. Published unless `publish` is false.
   */
  tryPush(
    pushId: number,
    time: number,
    diffPHID?: string,
    options?: { revisionId?: number; publish?: boolean; targetPHID?: string | null; author?: string },
  ): Promise<void>;
  /** `count` consecutive pushes from `firstId`, all mirrored unless `unmirroredFrom` says where that stops. */
  backlog(repository: string, firstId: number, count: number, time: number, options?: { unmirroredFrom?: number; commits?: number }): Promise<void>;
  run(argv: string[], extraEnv?: Record<string, string | undefined>, command?: "report-lag" | "display-lag", hooks?: RunHooks): Promise<RunResult>;
  /** The long-running service in-process; `signal` plays SIGTERM, `finished` is what run() would return. */
  start(argv: string[], extraEnv?: Record<string, string | undefined>): Promise<StartedService>;
  close(): Promise<void>;
}

export interface RunHooks {
  logs?: Array<Record<string, unknown>>;
  onLog?: () => void;
  onSignal?: Io["onSignal"];
}

export interface StartedService {
  logs: Array<Record<string, unknown>>;
  port: number;
  url: string;
  /** Resolves once a log line with this message has been written `count` times. */
  waitForLog(msg: string, count?: number): Promise<Record<string, unknown>>;
  signal(name?: string): void;
  finished: Promise<RunResult>;
}

export function collectingStream(lines: Array<Record<string, unknown>>, onLine?: () => void): Writable & { write: (s: string) => boolean } {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      onLine?.();
      done();
    },
  });
}

export const TRY = "try";
const BOT = "code review bot <release-mgmt-analysis@mozilla.com>";

export async function startHarness(options: {
  repositories: string[];
  token?: boolean;
  latencyMs?: number;
  tryRepository?: boolean;
  /** GIT_BRANCHES: turns the Git → hg sync check on, its queue bound to the Lando stand-in exchange. */
  gitBranches?: string;
}): Promise<Harness> {
  const broker = await openTestBroker();
  const hg = await startFakeHg({ latencyMs: options.latencyMs ?? 0 });
  const phab = await startFakePhabricator({ latencyMs: options.latencyMs ?? 0 });
  // hg.mozilla.org serves every repository a test configures, pushed to or not (an empty pushlog);
  // a path it does not serve is hgweb's 404 page.
  for (const repository of options.repositories) hg.addRepository(repository.split("=")[0] as string);
  if (options.tryRepository) hg.addRepository(TRY);
  const amqp = new URL(AMQP_URL);
  const env: Record<string, string> = {
    PULSE_URL: `${amqp.protocol}//${amqp.host}${amqp.pathname}`,
    PULSE_USERNAME: decodeURIComponent(amqp.username),
    PULSE_PASSWORD: decodeURIComponent(amqp.password),
    PULSE_EXCHANGE: broker.exchange,
    PULSE_QUEUE_NAME: broker.queueName,
    REPOSITORIES: options.repositories.join(","),
    HG_URL: hg.url,
    PHABRICATOR_URL: phab.url,
    // Once a year: tests trigger checks themselves (the one at start, or --once).
    CHECK_SCHEDULE: "0 0 1 1 *",
    PORT: "0",
    LOG_LEVEL: "debug",
  };
  if (options.token || options.tryRepository) env.PHABRICATOR_API_TOKEN = phab.token;
  if (options.gitBranches !== undefined) {
    env.GIT_BRANCHES = options.gitBranches;
    env.LANDO_EXCHANGE = broker.landoExchange;
    await broker.prepareQueue(["gitpushes.#"], broker.gitQueue, broker.landoExchange);
  }
  if (options.tryRepository) {
    env.CODE_REVIEW_TRY_REPOSITORY = TRY;
    await broker.prepareQueue([TRY], broker.tryQueue);
  }
  // `<path>=<CALLSIGN>` or `<path>=<CALLSIGN>:git`: the fake Phabricator knows the callsign either way.
  const callsigns = new Map(options.repositories.map((r) => [r.split("=")[0] as string, (r.split("=")[1] as string).replace(/:git$/, "")]));
  for (const callsign of new Set(callsigns.values())) phab.addRepository(callsign);
  await broker.prepareQueue([...callsigns.keys()]);

  const harness: Harness = {
    broker,
    hg,
    phab,
    env,
    async push(repository, pushId, time, opts = {}) {
      const changesets = commitsOf(repository, pushId, opts.commits ?? 4);
      const git = opts.git;
      const gitChangesets =
        git === undefined ? undefined : commitsOf(`git:${repository}`, pushId, changesets.length).map((sha, i) => (git.nullAt?.includes(i) ? null : sha));
      hg.addPush(
        repository,
        { pushId, date: time, user: "tester@mozilla.com", changesets, ...(gitChangesets === undefined ? {} : { gitChangesets }) },
        { replicated: opts.replicated ?? true },
      );
      if (opts.mirrored ?? true) phab.mirror(opts.callsign ?? (callsigns.get(repository) as string), changesets);
      if (git !== undefined && gitChangesets !== undefined && (git.mirrored ?? true)) {
        phab.mirror(
          git.callsign ?? (callsigns.get(repository) as string),
          gitChangesets.filter((g): g is string => g !== null),
        );
      }
      if (opts.publish ?? true) await broker.publish(repository, changegroupV2(hg.url, repository, [{ pushId, time: opts.messageTime ?? time }]));
      return changesets;
    },
    async tryPush(pushId, time, diffPHID, opts = {}) {
      const changesets = commitsOf(TRY, pushId, 2);
      const revision = opts.revisionId ?? 1;
      // The bot's try_task_config.json names its build target (mozilla/code-review bot/code_review_bot/vcs.py,
      // written with sort_keys and indent 4); `targetPHID: null` leaves the file out.
      const target = diffPHID && opts.targetPHID !== null ? (opts.targetPHID ?? phab.botTarget(diffPHID)) : undefined;
      const config = JSON.stringify(
        { parameters: { optimize_target_tasks: true, phabricator_diff: target, target_tasks_method: "codereview" }, version: 2 },
        null,
        4,
      );
      const details = diffPHID
        ? [
            {
              author: "Dev <dev@example.com>",
              desc: `Bug 1 - a patch\n\nDifferential Revision: https://phabricator.services.mozilla.com/D${revision}\nDifferential Diff: PHID-DIFF-patch${pushId}`,
            },
            {
              author: opts.author ?? BOT,
              desc: `try_task_config for https://phabricator.services.mozilla.com/D${revision}\nDifferential Diff: ${diffPHID}`,
              files: ["try_task_config.json"],
              ...(target === undefined ? {} : { contents: { "try_task_config.json": config } }),
            },
          ]
        : [
            { author: "Dev <dev@example.com>", desc: "Bug 2 - trying something" },
            { author: "Dev <dev@example.com>", desc: "try_task_config for build", files: ["try_task_config.json"] },
          ];
      hg.addPush(TRY, { pushId, date: time, user: diffPHID ? "reviewbot" : "dev@example.com", changesets, details });
      if (opts.publish ?? true) await broker.publish(TRY, changegroupV2(hg.url, TRY, [{ pushId, time }]));
    },
    async start(argv, extraEnv = {}) {
      let handler: ((signal: string) => void) | undefined;
      const listeners: Array<() => void> = [];
      const logs: Array<Record<string, unknown>> = [];
      const finished = harness.run(argv, extraEnv, "report-lag", {
        logs,
        onLog: () => listeners.forEach((l) => l()),
        onSignal: (h) => {
          handler = h;
          return () => undefined;
        },
      });
      const waitForLog = (msg: string, count = 1) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no "${msg}" log line (x${count}) in:\n${JSON.stringify(logs.slice(-20), null, 1)}`)), 20_000);
          const check = () => {
            const found = logs.filter((l) => l.msg === msg);
            if (found.length >= count) {
              clearTimeout(timer);
              resolve(found[count - 1] as Record<string, unknown>);
            }
          };
          listeners.push(check);
          check();
        });
      const listening = await waitForLog("listening");
      const port = listening.port as number;
      return {
        logs,
        port,
        url: `http://127.0.0.1:${port}`,
        waitForLog,
        signal: (name = "SIGTERM") => handler?.(name),
        finished,
      };
    },
    async backlog(repository, firstId, count, time, opts = {}) {
      const messages = [];
      for (let id = firstId; id < firstId + count; id++) {
        const changesets = commitsOf(repository, id, opts.commits ?? 4);
        hg.addPush(repository, { pushId: id, date: time, user: "tester@mozilla.com", changesets });
        if (opts.unmirroredFrom === undefined || id < opts.unmirroredFrom) phab.mirror(callsigns.get(repository) as string, changesets);
        messages.push({ routingKey: repository, body: changegroupV2(hg.url, repository, [{ pushId: id, time }]) });
      }
      await broker.publishMany(messages);
    },
    async run(argv, extraEnv = {}, command = "report-lag", hooks: RunHooks = {}) {
      const logs: Array<Record<string, unknown>> = hooks.logs ?? [];
      let stdout = "";
      let stderr = "";
      const merged: Record<string, string | undefined> = { ...env, ...extraEnv };
      const io: Io = {
        env: merged,
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
        isTTY: false,
        dotenvPath: join(mkdtempSync(join(tmpdir(), "phabmon-")), ".env"),
        logDestination: collectingStream(logs, hooks.onLog),
        drainIdleMs: 300,
        ...(hooks.onSignal ? { onSignal: hooks.onSignal } : {}),
      };
      const code = await (command === "report-lag" ? reportLag : displayLag)(argv, io);
      return { code, stdout, stderr, logs };
    },
    async close() {
      await broker.close();
      await hg.close();
      await phab.close();
    },
  };
  return harness;
}

export interface Spawned {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** bin/<command> as a child process, in an empty working directory (no developer's .env). */
export function spawnCommand(command: string, args: string[], env: Record<string, string>): Spawned {
  const cwd = mkdtempSync(join(tmpdir(), "phabmon-"));
  const child = spawn(join(ROOT, "bin", command), args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: Array<() => void> = [];
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    pid: child.pid as number,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal) => child.kill(signal),
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}; stdout so far:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`)),
          timeoutMs,
        );
        const check = () => {
          if (pattern.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        waiters.push(check);
        check();
        void exited.then(() => {
          if (!pattern.test(out)) {
            clearTimeout(timer);
            reject(new Error(`exited before ${pattern}; stdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`));
          }
        });
      });
    },
  };
}

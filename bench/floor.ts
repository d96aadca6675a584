// The least work the parts force for a drain of N mirrored pushes with a token, measured in the same run
// as the drain so that the machine's drift cancels out: Node 24 starting, the broker handing over and
// taking the acks of N messages (one consumer, prefetch N), and the upstream requests no service could
// avoid against the same fakes at the same latency (json-pushes slices of 200 with one read ahead, and
// diffusion.commit.search calls of 100 identifiers, 4 in flight, while the next slice comes in).
import { spawn } from "node:child_process";
import { connect } from "amqplib";
import { commitsOf } from "../test/support/hgpush.ts";
import { AMQP_URL } from "../test/support/broker.ts";
import type { Harness } from "../test/support/harness.ts";

export interface Floor {
  nodeStartS: number;
  brokerS: number;
  upstreamS: number;
  totalS: number;
}

const SLICE = 200;
const CONDUIT_PAGE = 100;
const IN_FLIGHT = 4;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/** The median of five `node -e 0`. */
async function nodeStart(): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    runs.push(await timed(() => new Promise((resolve) => spawn(process.execPath, ["-e", "0"], { stdio: "ignore" }).on("exit", resolve))));
  }
  return runs.sort((a, b) => a - b)[2] as number;
}

/** Connect, take every message of `queue` with prefetch `count`, ack them, and close once the broker has them. */
async function brokerHandOver(queue: string, count: number): Promise<number> {
  return timed(async () => {
    const connection = await connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.prefetch(count);
    await new Promise<void>((resolve) => {
      let seen = 0;
      void channel.consume(queue, (message) => {
        if (message === null) return;
        channel.ack(message);
        if (++seen === count) resolve();
      });
    });
    // Closing is a round trip after the acks: the broker has processed them when it answers.
    await channel.close();
    await connection.close();
  });
}

async function upstream(h: Harness, repository: string, pushes: number, commits: number): Promise<number> {
  const hgUrl = h.env.HG_URL as string;
  const phabUrl = h.env.PHABRICATOR_URL as string;
  const token = h.env.PHABRICATOR_API_TOKEN as string;
  const conduit = (method: string, params: Record<string, unknown>) =>
    fetch(`${phabUrl}/api/${method}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ params: JSON.stringify({ ...params, __conduit__: { token } }), output: "json" }).toString(),
    }).then((r) => r.text());
  const slice = (index: number) =>
    fetch(`${hgUrl}/${repository}/json-pushes?version=2&startID=${index * SLICE}&endID=${Math.min(pushes, (index + 1) * SLICE)}`).then((r) => r.text());
  return timed(async () => {
    const repo = JSON.parse(await conduit("diffusion.repository.search", { constraints: { callsigns: ["MOZILLACENTRAL"] } })) as {
      result: { data: Array<{ phid: string }> };
    };
    const phid = repo.result.data[0]?.phid;
    const slices = Math.ceil(pushes / SLICE);
    let next = slice(0);
    for (let i = 0; i < slices; i++) {
      await next;
      if (i + 1 < slices) next = slice(i + 1);
      const nodes: string[] = [];
      for (let id = i * SLICE + 1; id <= Math.min(pushes, (i + 1) * SLICE); id++) nodes.push(...commitsOf(repository, id, commits));
      const pages: string[][] = [];
      for (let j = 0; j < nodes.length; j += CONDUIT_PAGE) pages.push(nodes.slice(j, j + CONDUIT_PAGE));
      for (let j = 0; j < pages.length; j += IN_FLIGHT) {
        await Promise.all(
          pages
            .slice(j, j + IN_FLIGHT)
            .map((identifiers) => conduit("diffusion.commit.search", { constraints: { repositories: [phid], identifiers }, limit: 100 })),
        );
      }
    }
  });
}

/**
 * Measured on the harness's backlog of `pushes` messages (already published, all mirrored): consumes
 * them, so call it on a harness of its own.
 */
export async function measureFloor(h: Harness, options: { repository: string; pushes: number; commits: number }): Promise<Floor> {
  const nodeStartS = await nodeStart();
  const upstreamS = await upstream(h, options.repository, options.pushes, options.commits);
  const brokerS = await brokerHandOver(h.broker.queue, options.pushes);
  return { nodeStartS, brokerS, upstreamS, totalS: nodeStartS + brokerS + upstreamS };
}

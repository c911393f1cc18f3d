/**
 * `npm run bench -- netlink`: veth pairs with the peer in a namespace, side by side in one run.
 *
 *   ours (pipelined RTM_NEWLINK, peer created in the target namespace)
 *   vs `ip -batch` doing the same (alternating rounds, NETPLUMB_BENCH_ROUNDS, medians),
 *   vs one `ip` process per pair;
 *   bulk delete (fresh link group + one RTM_DELLINK) vs one-at-a-time delete;
 *   peer-in-namespace creation vs create-then-move.
 *
 * Everything happens in two namespaces the benchmark creates ("host" and "container");
 * the machine's own namespace is never changed.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openNetns } from '../src/netns/index.js';
import { openRouteTransport } from '../src/netlink/native-transport.js';
import { Rtnl } from '../src/rtnl/index.js';
import { countSpawns, nowMs, percentile, printTable, round } from './lib/stats.js';

const N = Number(process.env.NETPLUMB_BENCH_PAIRS ?? 500);
const ROUNDS = Math.max(1, Number(process.env.NETPLUMB_BENCH_ROUNDS ?? 6));
const MOVE_N = Math.min(N, Number(process.env.NETPLUMB_BENCH_MOVE_PAIRS ?? 100));

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function countLinks(ns: string): number {
  return (JSON.parse(execFileSync('ip', ['-json', '-n', ns, 'link', 'show']).toString()) as unknown[]).length;
}

async function main(): Promise<void> {
  const tag = `${process.pid}`;
  const H = `np-bh-${tag}`;
  const C = `np-bc-${tag}`;
  ip('netns', 'add', H);
  ip('netns', 'add', C);
  const dir = mkdtempSync(join(tmpdir(), 'np-bench-'));
  const hostNs = openNetns({ name: H });
  const contNs = openNetns({ name: C });
  const rtnl = new Rtnl(openRouteTransport(hostNs.fd, hostNs.label));
  const baseLinks = countLinks(H);
  const rows: (string | number)[][] = [];
  const figures: Record<string, number> = { pairs: N };
  try {
    const names = (p: string) => Array.from({ length: N }, (_, i) => `${p}${i}`);

    // ours and `ip -batch` in alternating rounds (each goes first in half of them), so the
    // kernel's background work after a delete and the machine's noise hit both alike.
    const addBatch = join(dir, 'add');
    const delBatch = join(dir, 'del');
    writeFileSync(
      addBatch,
      names('b')
        .map((n, i) => `link add ${n} type veth peer name d${i} netns ${C}\n`)
        .join(''),
    );
    writeFileSync(
      delBatch,
      names('b')
        .map((n) => `link del ${n}\n`)
        .join(''),
    );
    const ipBatchRound = (): number => {
      const t0 = nowMs();
      ip('-n', H, '-batch', addBatch);
      const ms = nowMs() - t0;
      ip('-n', H, '-batch', delBatch);
      return ms;
    };
    const oursRound = async (): Promise<{ create: number; bulkDelete: number }> => {
      // every RTM_NEWLINK issued at once; the engine hands the burst to the kernel in one pool job.
      const t0 = nowMs();
      await Promise.all(
        names('h').map((n, i) => rtnl.link.add({ name: n, kind: 'veth', peer: { name: `c${i}`, netnsFd: contNs.fd } })),
      );
      const create = nowMs() - t0;
      if (countLinks(H) !== baseLinks + N) throw new Error('ours: not all veths were created');
      const t1 = nowMs();
      await rtnl.link.delMany(names('h'));
      const bulkDelete = nowMs() - t1;
      if (countLinks(H) !== baseLinks) throw new Error('bulk delete left links behind');
      return { create, bulkDelete };
    };
    const oursCreate: number[] = [];
    const oursDelete: number[] = [];
    const batchCreate: number[] = [];
    let oursSpawns = 0;
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 1) batchCreate.push(ipBatchRound());
      const o = await countSpawns(oursRound);
      oursSpawns += o.spawns;
      oursCreate.push(o.result.create);
      oursDelete.push(o.result.bulkDelete);
      if (r % 2 === 0) batchCreate.push(ipBatchRound());
    }
    figures.child_processes_ours = oursSpawns;
    const perRound = oursCreate.map((o, i) => (batchCreate[i] as number) / o);

    // one `ip` per pair.
    let t0 = nowMs();
    for (let i = 0; i < N; i++)
      ip('-n', H, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', `q${i}`, 'netns', C);
    const ipEach = nowMs() - t0;

    // one-at-a-time delete of those pairs with our library (one RCU grace period each).
    t0 = nowMs();
    for (let i = 0; i < N; i++) await rtnl.link.del(`p${i}`);
    const delEach = nowMs() - t0;

    // create-then-move vs peer-in-namespace, MOVE_N pairs, both through our library.
    t0 = nowMs();
    for (let i = 0; i < MOVE_N; i++) {
      await rtnl.link.add({ name: `m${i}`, kind: 'veth', peer: { name: `n${i}` } });
      await rtnl.link.set(`n${i}`, { netnsFd: contNs.fd });
    }
    const moveEach = (nowMs() - t0) / MOVE_N;
    await rtnl.link.delMany(Array.from({ length: MOVE_N }, (_, i) => `m${i}`));
    t0 = nowMs();
    for (let i = 0; i < MOVE_N; i++)
      await rtnl.link.add({ name: `m${i}`, kind: 'veth', peer: { name: `n${i}`, netnsFd: contNs.fd } });
    const inNsEach = (nowMs() - t0) / MOVE_N;
    await rtnl.link.delMany(Array.from({ length: MOVE_N }, (_, i) => `m${i}`));

    const create = percentile(oursCreate, 50);
    const ipBatch = percentile(batchCreate, 50);
    const bulkDelete = percentile(oursDelete, 50);
    const perSec = (ms: number) => (N * 1000) / ms;
    rows.push([`create: ours (pipelined), median of ${ROUNDS}`, create, round(perSec(create), 0)]);
    rows.push([`create: ip -batch, median of ${ROUNDS}`, ipBatch, round(perSec(ipBatch), 0)]);
    rows.push(['create: one ip per pair', ipEach, round(perSec(ipEach), 0)]);
    rows.push([`delete: ours bulk (group), median of ${ROUNDS}`, bulkDelete, round(perSec(bulkDelete), 0)]);
    rows.push(['delete: ours one at a time', delEach, round(perSec(delEach), 0)]);
    printTable([`${N} veth pairs, peer in a namespace`, 'total ms', 'pairs/s'], rows);
    process.stdout.write(
      `\nours vs ip -batch, per round (ip -batch ms / ours ms): ${perRound.map((x) => round(x, 2)).join(', ')}\n\n`,
    );
    printTable(
      [`${MOVE_N} pairs, sequential`, 'ms per pair'],
      [
        ['peer created in the namespace', inNsEach],
        ['created, then moved', moveEach],
      ],
    );

    Object.assign(figures, {
      rounds: ROUNDS,
      create_ours_ms: round(create),
      create_ip_batch_ms: round(ipBatch),
      create_ip_each_ms: round(ipEach),
      create_vs_ip_batch: round(ipBatch / create),
      create_vs_ip_batch_per_round: perRound.map((x) => round(x)),
      create_vs_ip_each: round(ipEach / create),
      delete_bulk_ms: round(bulkDelete),
      delete_each_ms: round(delEach),
      delete_bulk_vs_each: round(delEach / bulkDelete),
      peer_in_ns_ms_per_pair: round(inNsEach),
      create_then_move_ms_per_pair: round(moveEach),
      move_vs_in_ns: round(moveEach / inNsEach),
    });
  } finally {
    rtnl.close();
    hostNs.close();
    contNs.close();
    ip('netns', 'del', H);
    ip('netns', 'del', C);
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify({ bench: 'netlink', ...figures })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench netlink failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});

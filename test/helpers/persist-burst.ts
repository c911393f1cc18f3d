/**
 * Restart bursts and their oracle, for the watch test and the persist bench: containers
 * restarted back to back, all at once; then each must be attached exactly once in its
 * current namespace (one interface besides lo, with its address and MAC: `ip -json`) and
 * have exactly one OVS port (`ovs-vsctl --format=json`).
 */
import { eventually, type PersistBed } from './persist-bed.js';

/** `podman restart -t 0 NAME`, `times` times in a row per container, every container at once. */
export async function restartBurst(bed: PersistBed, names: readonly string[], times: number): Promise<void> {
  await Promise.all(
    names.map(async (n) => {
      for (let i = 0; i < times; i++) await bed.podman.podman(['restart', '-t', '0', n], 120_000);
    }),
  );
}

/** Why `name` is not attached exactly once as wanted, or undefined when it is. */
async function notOnce(bed: PersistBed, name: string, want: { ip: string; mac: string }): Promise<string | undefined> {
  const links = await bed.links(name);
  if (links.length !== 1) return `${name} has ${links.length} interfaces besides lo (${links.map((l) => l.ifname)})`;
  const l = links[0];
  const ip = l?.addr_info?.find((a) => a.family === 'inet');
  if (l?.ifname !== 'eth1' || l.operstate !== 'UP') return `${name}: ${l?.ifname} ${l?.operstate}`;
  if (l.address !== want.mac) return `${name}: MAC ${l.address}, want ${want.mac}`;
  if (ip === undefined || `${ip.local}/${ip.prefixlen}` !== want.ip) return `${name}: no ${want.ip}`;
  return undefined;
}

/** Wait until every container is attached exactly once, with one OVS port each and no other. */
export async function attachedOnce(
  bed: PersistBed,
  want: ReadonlyMap<string, { ip: string; mac: string }>,
  timeoutMs = 120_000,
): Promise<void> {
  const ids = new Map<string, string>();
  for (const n of want.keys()) ids.set(n, (await bed.podman.podman(['inspect', '--format', '{{.Id}}', n])).trim());
  let why = '';
  await eventually(
    'every container attached exactly once',
    async () => {
      for (const [n, w] of want) {
        const bad = await notOnce(bed, n, w);
        if (bad !== undefined) {
          why = bad;
          return undefined;
        }
      }
      const ports = await bed.ovsPorts();
      for (const [n, id] of ids) {
        const mine = ports.filter((p) => p.containerId === id).length;
        if (mine !== 1) {
          why = `${n} has ${mine} OVS ports`;
          return undefined;
        }
      }
      if (ports.length !== want.size) {
        why = `${ports.length} OVS ports for ${want.size} containers`;
        return undefined;
      }
      return true;
    },
    timeoutMs,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; last seen: ${why}`);
  });
}

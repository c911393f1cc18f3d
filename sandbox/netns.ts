/** A named network namespace a sandbox runs its daemons in: an emulated host. */
import { must } from './exec.js';

export interface SandboxNetns {
  readonly name: string;
  /** `ip netns exec NAME ARGV…` as an argv array. */
  exec(argv: string[]): string[];
  /** Equivalent to: ip netns del NAME (a second call does nothing). */
  remove(): Promise<void>;
}

/** `ip netns exec NAME ARGV…` as an argv array: running in a namespace someone else made. */
export function inNetns(name: string): Pick<SandboxNetns, 'name' | 'exec'> {
  return { name, exec: (argv) => ['ip', 'netns', 'exec', name, ...argv] };
}

/**
 * Equivalent to: ip netns add NAME ; ip -n NAME link set lo up
 * The namespace must not exist; it is deleted again when bringing lo up fails.
 */
export async function createNetns(name: string): Promise<SandboxNetns> {
  await must(['ip', 'netns', 'add', name]);
  let removed = false;
  const ns: SandboxNetns = {
    ...inNetns(name),
    remove: async () => {
      if (removed) return;
      await must(['ip', 'netns', 'del', name]);
      removed = true;
    },
  };
  try {
    await must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    await ns.remove().catch(() => undefined);
    throw e;
  }
  return ns;
}

/**
 * The gate of every privileged and e2e test file: node:test's functions, live only when the
 * process may change namespaces (effective CAP_NET_ADMIN and CAP_SYS_ADMIN: root).
 *
 * Without them, the file's tests, suites and hooks are not registered; instead one test
 * says why — skipped, or, when CI is set (CI=1/true/anything but 0/false), failed: CI runs
 * as root, so there a skip would hide a suite that never ran.
 *
 * Import test, describe, it and the hooks from here instead of node:test.
 */
import * as nodeTest from 'node:test';
import { readFileSync } from 'node:fs';

export const PRIVILEGED_REASON = 'privileged: needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN); run as root';

const CAPABILITIES: Readonly<Record<string, number>> = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21 };

/** What this process lacks for the privileged tests (`uid 65534, without CAP_NET_ADMIN, …`), or undefined. */
export function missingPrivileges(): string | undefined {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const lacking = Object.entries(CAPABILITIES)
    .filter(([, bit]) => ((BigInt(`0x${capEff}`) >> BigInt(bit)) & 1n) === 0n)
    .map(([name]) => name);
  return lacking.length === 0 ? undefined : `uid ${process.geteuid?.() ?? '?'}, without ${lacking.join(', ')}`;
}

/** True when CI is set: there, every privileged test must run. */
export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

const missing = missingPrivileges();
if (missing !== undefined) {
  if (inCi())
    nodeTest.test(PRIVILEGED_REASON, () => {
      throw new Error(`${missing}, and CI is set: privileged tests must run in CI, as root; not skipping them`);
    });
  else nodeTest.test(PRIVILEGED_REASON, { skip: missing });
}

/** `fn` itself when privileged; otherwise a no-op, so that nothing of the file is registered. */
function gated<F>(fn: F): F {
  return missing === undefined ? fn : ((() => Promise.resolve()) as F);
}

export const test = gated(nodeTest.test);
export const describe = gated(nodeTest.describe);
export const it = gated(nodeTest.it);
export const before = gated(nodeTest.before);
export const after = gated(nodeTest.after);
export const beforeEach = gated(nodeTest.beforeEach);
export const afterEach = gated(nodeTest.afterEach);

/**
 * Waiting for a `netplumb serve` that a test started: until its socket answers a ping. The
 * socket file alone says too little: it exists from bind(2) on, a moment before listen(2)
 * (a connection then is refused), and a stale one left by a killed predecessor may still
 * be there.
 */
import type { ChildProcess } from 'node:child_process';
import { DaemonClient } from '../../src/daemon/client.js';

/** True once the daemon at `sock` answers; false if `child` exits or `timeoutMs` passes first. */
export async function daemonAnswers(sock: string, child: ChildProcess, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    try {
      const client = await DaemonClient.connect(sock, { connectTimeoutMs: 1000 });
      try {
        await client.ping(1000);
        return true;
      } finally {
        await client.close();
      }
    } catch {
      // not there yet, or not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** The host interface a network's attachments go to: its bridge, or the macvlan's master. */
import type { CniTarget } from './config.js';

export function targetHost(t: CniTarget): string {
  return t.mode === 'macvlan' ? t.master : t.bridge;
}

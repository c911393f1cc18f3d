/**
 * What `netplumb check` reports: for every ordered pair of attachments, what the records
 * say should happen (same bridge and VLAN, or same OVN network, and same subnet ⇒
 * reachable) and what an ICMP echo sent from inside the source guest measured. This is
 * also the `--json` output (`check` in `{"ok":true,"check":…}`); its JSON Schema is
 * docs/check.schema.json.
 */
export const CHECK_SCHEMA = 'netplumb.check/1';

/**
 * `ok`: as expected; `leak`: a reply across bridges, VLANs or OVN networks (isolation broken: the worst);
 * `unexpected`: a reply on the same segment between different subnets (a router?);
 * `missing`: no reply where the records say there should be one;
 * `skipped`: not probed (see `reason`): a broken attachment, no address to use, the same guest.
 */
export type PairVerdict = 'ok' | 'leak' | 'unexpected' | 'missing' | 'skipped';

/** `match`: every probed pair as expected; `missing`: some reachability is missing (or unexpected); `leak`: isolation is broken. */
export type CheckVerdict = 'match' | 'missing' | 'leak';

export interface CheckedAttachment {
  /** Attachment id. */
  id: string;
  /** `con1 eth1` */
  label: string;
  guest: string;
  ifname: string;
  bridge: string;
  /** The recorded access VLAN (0: untagged); absent for a trunk port, an OVN attachment, or when unknown. */
  vlan?: number;
  /** The OVN network of an OVN attachment (mode `ovn`): its segment. */
  network?: string;
  trunks?: number[];
  /** The addresses probed to and from (as the guest has them, else as recorded). */
  addresses: string[];
  /** Why its pairs are skipped: the code of its first broken issue (see `netplumb show`). */
  broken?: string;
  /** How its wiring differs from its record (a VLAN changed behind netplumb's back …): the likely cause of a difference. */
  drift?: { code: string; reason: string; fix: string }[];
}

export interface PairResult {
  /** Attachment ids. */
  from: string;
  to: string;
  /** The address probed. */
  address?: string;
  expected: boolean;
  /** A reply came back; absent when skipped. */
  reached?: boolean;
  /** Round trip of the first reply (ms). */
  rttMs?: number;
  verdict: PairVerdict;
  reason?: string;
}

export interface CheckReport {
  schema: typeof CHECK_SCHEMA;
  verdict: CheckVerdict;
  attachments: CheckedAttachment[];
  pairs: PairResult[];
  summary: {
    attachments: number;
    pairs: number;
    probed: number;
    ok: number;
    leaks: number;
    unexpected: number;
    missing: number;
    skipped: number;
    /** Echo requests sent in all. */
    probesSent: number;
  };
  timeoutMs: number;
  durationMs: number;
  /** Neighbour (ARP/NDP) entries the probes created in the guests and that were removed again. */
  neighboursRemoved: number;
}

/** Exit status of `netplumb check` for a verdict: 0 match, 1 missing (or unexpected), 17 leak. */
export function checkExitCode(v: CheckVerdict): number {
  return v === 'match' ? 0 : v === 'leak' ? 17 : 1;
}

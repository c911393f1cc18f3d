/**
 * One small interface over the engine, whether it runs in this process (a Plumber) or in
 * the daemon (a DaemonClient): the CLI and library callers use `Engine` and get the same
 * results either way. The daemon itself serves its requests through a DirectEngine, so a
 * request has one code path behind both. `openEngine` (open.ts) picks one of the two.
 */
import type { Attachment, AttachResult, DetachRequest, DetachResult, Plumber } from '../plumb/plumber.js';
import type { GcOptions, GcResult } from '../plumb/gc.js';
import type { AttachSpec } from '../plumb/spec.js';
import type { DeclaredAttachment } from '../plumb/declared.js';
import type { ListFilter } from '../daemon/params.js';
import type { Network, NetworkSpec } from '../ovn/networks.js';
import type { Uplink, UplinkAddResult, UplinkDelRequest } from '../plumb/uplink.js';
import type { UplinkSpec } from '../plumb/uplink-spec.js';

export type { ListFilter } from '../daemon/params.js';

/** Uplinks: host NICs in OVS bridges (`netplumb uplink`; src/plumb/uplink.ts). */
export interface UplinkOps {
  add(spec: UplinkSpec): Promise<UplinkAddResult>;
  del(req: UplinkDelRequest): Promise<{ removed?: Uplink }>;
  list(): Promise<Uplink[]>;
}

/** OVN networks (`netplumb network`; src/ovn/networks.ts). */
export interface NetworkOps {
  create(spec: NetworkSpec): Promise<{ changed: boolean; network: Network }>;
  delete(name: string, opts?: { force?: boolean }): Promise<{ deleted?: Network }>;
  list(): Promise<Network[]>;
}

export interface Engine {
  /** Where the work is done: in the daemon or in this process. */
  readonly via: 'daemon' | 'direct';
  attach(spec: AttachSpec): Promise<AttachResult>;
  detach(req: DetachRequest): Promise<DetachResult>;
  /** Every attachment, or one guest's (matched as detach matches it). */
  list(filter?: ListFilter): Promise<Attachment[]>;
  /** Remove what netplumb owns and nobody uses; each attachment removed or kept, with why. */
  gc(opts?: GcOptions): Promise<GcResult>;
  /** Each declared attachment (`attach --persist`), desired vs actual. */
  declared(): Promise<DeclaredAttachment[]>;
  readonly uplinks: UplinkOps;
  readonly networks: NetworkOps;
  close(): Promise<void>;
}

/** The engine in this process. */
export class DirectEngine implements Engine {
  readonly via = 'direct' as const;

  constructor(readonly plumber: Plumber) {}

  get uplinks(): UplinkOps {
    return this.plumber.uplinks;
  }

  get networks(): NetworkOps {
    return this.plumber.networks;
  }

  attach(spec: AttachSpec): Promise<AttachResult> {
    return this.plumber.attach(spec);
  }

  detach(req: DetachRequest): Promise<DetachResult> {
    return this.plumber.detach(req);
  }

  async list(filter: ListFilter = {}): Promise<Attachment[]> {
    const rows = await this.plumber.list();
    const guest = filter.guest;
    if (guest === undefined) return rows;
    const ofGuest = this.plumber.matcher(guest);
    return rows.filter((a) => ofGuest(a.record));
  }

  gc(opts: GcOptions = {}): Promise<GcResult> {
    return this.plumber.gc(opts);
  }

  declared(): Promise<DeclaredAttachment[]> {
    return this.plumber.declaredStatus();
  }

  close(): Promise<void> {
    return this.plumber.close();
  }
}

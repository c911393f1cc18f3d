/** Neighbour verbs (`ip neigh …`): the ARP and NDP caches, read and pruned. */
import { AttrWriter } from '../netlink/attr-writer.js';
import { attr, attrTable, dec, parseAttrs } from '../netlink/attr-reader.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import type { NetlinkMessage } from '../netlink/header.js';
import { RTM } from '../netlink/message-types.js';
import { guardParse, parseError } from '../netlink/parse-error.js';
import { struct } from '../netlink/struct.js';
import { ipAddress, type IpFamily } from '../validate.js';
import { afOf, familyOf } from './family.js';
import { dump, payload, send, type RtnlRequest } from './request.js';

/** struct ndmsg (12 bytes): neighbours. */
export const NDMSG = struct('ndmsg', [
  ['family', 'u8'],
  ['pad1', 'pad8'],
  ['pad2', 'pad16'],
  ['index', 's32'],
  ['state', 'u16'],
  ['flags', 'u8'],
  ['type', 'u8'],
]);

/** linux/neighbour.h: NDA_* attributes and NUD_* states. */
export const NDA = { NDA_DST: 1, NDA_LLADDR: 2 } as const;
export const NUD = {
  NUD_INCOMPLETE: 0x01,
  NUD_REACHABLE: 0x02,
  NUD_STALE: 0x04,
  NUD_DELAY: 0x08,
  NUD_PROBE: 0x10,
  NUD_FAILED: 0x20,
  NUD_NOARP: 0x40,
  NUD_PERMANENT: 0x80,
} as const;

export type NeighState =
  | 'incomplete'
  | 'reachable'
  | 'stale'
  | 'delay'
  | 'probe'
  | 'failed'
  | 'noarp'
  | 'permanent'
  | 'none';

const STATE_NAMES: readonly [number, NeighState][] = [
  [NUD.NUD_PERMANENT, 'permanent'],
  [NUD.NUD_NOARP, 'noarp'],
  [NUD.NUD_REACHABLE, 'reachable'],
  [NUD.NUD_STALE, 'stale'],
  [NUD.NUD_DELAY, 'delay'],
  [NUD.NUD_PROBE, 'probe'],
  [NUD.NUD_INCOMPLETE, 'incomplete'],
  [NUD.NUD_FAILED, 'failed'],
];

export interface Neighbour {
  family: IpFamily;
  /** ifindex */
  index: number;
  /** The neighbour's IP address. */
  dst: string;
  /** Its link-layer address, once resolved. */
  lladdr?: string;
  state: NeighState;
}

const NEIGH_TABLE = attrTable('NDA', {
  [NDA.NDA_DST]: attr('dst', dec.ip),
  [NDA.NDA_LLADDR]: attr('lladdr', dec.hwaddr),
});

export function decodeNeighbour(msg: NetlinkMessage): Neighbour {
  return guardParse('RTM_NEWNEIGH', () => {
    if (msg.type !== RTM.RTM_NEWNEIGH) throw parseError('RTM_NEWNEIGH', `unexpected message type ${msg.type}`);
    const hdr = NDMSG.decode(msg.payload);
    const a = parseAttrs(msg.payload.subarray(NDMSG.size), NEIGH_TABLE);
    if (a.dst === undefined) throw parseError('RTM_NEWNEIGH', `neighbour on ifindex ${hdr.index} has no NDA_DST`);
    return {
      family: familyOf(hdr.family, 'RTM_NEWNEIGH'),
      index: hdr.index,
      dst: a.dst,
      ...(a.lladdr !== undefined ? { lladdr: a.lladdr } : {}),
      state: STATE_NAMES.find(([bit]) => (hdr.state & bit) !== 0)?.[1] ?? 'none',
    };
  });
}

export function neighDumpRequest(family?: IpFamily): RtnlRequest {
  return { type: RTM.RTM_GETNEIGH, flags: 0, payload: NDMSG.encode({ family: afOf(family) }), describe: 'neigh show' };
}

export function neighDelRequest(index: number, dst: string): RtnlRequest {
  const ip = ipAddress('dst', dst);
  return {
    type: RTM.RTM_DELNEIGH,
    flags: 0,
    payload: payload(NDMSG.encode({ family: afOf(ip.family), index }), new AttrWriter().ip(NDA.NDA_DST, ip.bytes)),
    describe: `neigh del ${ip.address} dev #${index}`,
  };
}

export class NeighVerbs {
  constructor(private readonly engine: NetlinkEngine) {}

  /** Equivalent to: ip [-4|-6] neigh show (IPv4 and IPv6 only; bridge FDB entries are left out) */
  async list(family?: IpFamily): Promise<Neighbour[]> {
    const replies = await dump(this.engine, neighDumpRequest(family));
    const wanted = [afOf(4), afOf(6)];
    return replies
      .filter((m) => m.type === RTM.RTM_NEWNEIGH && wanted.includes(NDMSG.decode(m.payload).family))
      .map(decodeNeighbour);
  }

  /** Equivalent to: ip neigh del DST dev #INDEX */
  async del(index: number, dst: string): Promise<void> {
    await send(this.engine, neighDelRequest(index, dst));
  }
}

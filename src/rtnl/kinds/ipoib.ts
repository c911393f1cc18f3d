/** ipoib: an IP-over-InfiniBand child interface (`ip link add link ib0 name ib0.8001 type ipoib pkey 0x8001 mode connected`). */
import { invalidArgument } from '../../errors.js';
import { attr, attrTable, dec, parseAttrs } from '../../netlink/attr-reader.js';
import { integer } from '../../validate.js';
import { linkKind } from '../link-kind.js';

export const IFLA_IPOIB = {
  IFLA_IPOIB_UNSPEC: 0,
  IFLA_IPOIB_PKEY: 1,
  IFLA_IPOIB_MODE: 2,
  IFLA_IPOIB_UMCAST: 3,
} as const;

export const IPOIB_MODE = {
  IPOIB_MODE_DATAGRAM: 0,
  IPOIB_MODE_CONNECTED: 1,
} as const;

const MODES = { datagram: IPOIB_MODE.IPOIB_MODE_DATAGRAM, connected: IPOIB_MODE.IPOIB_MODE_CONNECTED } as const;

export interface IpoibOptions {
  kind: 'ipoib';
  /** Partition key, 16 bits (the full-membership bit 0x8000 is set by the kernel). */
  pkey?: number;
  mode?: keyof typeof MODES;
  umcast?: boolean;
}

export interface IpoibInfo {
  pkey?: number;
  mode?: keyof typeof MODES | number;
  umcast?: boolean;
}

const IPOIB_TABLE = attrTable('IFLA_IPOIB', {
  [IFLA_IPOIB.IFLA_IPOIB_PKEY]: attr('pkey', dec.u16),
  [IFLA_IPOIB.IFLA_IPOIB_MODE]: attr('mode', dec.u16),
  [IFLA_IPOIB.IFLA_IPOIB_UMCAST]: attr('umcast', dec.u16),
});

export const ipoib = linkKind<IpoibOptions, IpoibInfo>({
  kind: 'ipoib',
  requiresParent: true,
  validate(o) {
    if (o.mode !== undefined && !Object.hasOwn(MODES, o.mode))
      throw invalidArgument('mode', `${JSON.stringify(o.mode)} is not datagram or connected`);
    return o.pkey === undefined ? o : { ...o, pkey: integer('pkey', o.pkey, 1, 0xffff) };
  },
  encodeData(w, o) {
    if (o.pkey !== undefined) w.u16(IFLA_IPOIB.IFLA_IPOIB_PKEY, o.pkey);
    if (o.mode !== undefined) w.u16(IFLA_IPOIB.IFLA_IPOIB_MODE, MODES[o.mode]);
    if (o.umcast !== undefined) w.u16(IFLA_IPOIB.IFLA_IPOIB_UMCAST, o.umcast ? 1 : 0);
  },
  decodeData(data) {
    const a = parseAttrs(data, IPOIB_TABLE);
    const info: IpoibInfo = {};
    if (a.pkey !== undefined) info.pkey = a.pkey;
    if (a.mode !== undefined) info.mode = a.mode === 0 ? 'datagram' : a.mode === 1 ? 'connected' : a.mode;
    if (a.umcast !== undefined) info.umcast = a.umcast !== 0;
    return info;
  },
});

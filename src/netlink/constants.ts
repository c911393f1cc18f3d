/**
 * Netlink protocol constants (linux/netlink.h), named exactly as the kernel names them.
 */

export const NLMSG = {
  NLMSG_NOOP: 1,
  NLMSG_ERROR: 2,
  NLMSG_DONE: 3,
  NLMSG_OVERRUN: 4,
  NLMSG_MIN_TYPE: 16,
} as const;

export const NLM_F = {
  NLM_F_REQUEST: 0x1,
  NLM_F_MULTI: 0x2,
  NLM_F_ACK: 0x4,
  NLM_F_ECHO: 0x8,
  NLM_F_DUMP_INTR: 0x10,
  NLM_F_DUMP_FILTERED: 0x20,
  NLM_F_ROOT: 0x100,
  NLM_F_MATCH: 0x200,
  NLM_F_ATOMIC: 0x400,
  NLM_F_DUMP: 0x300,
  NLM_F_REPLACE: 0x100,
  NLM_F_EXCL: 0x200,
  NLM_F_CREATE: 0x400,
  NLM_F_APPEND: 0x800,
  NLM_F_NONREC: 0x100,
  NLM_F_BULK: 0x200,
  NLM_F_CAPPED: 0x100,
  NLM_F_ACK_TLVS: 0x200,
} as const;

export const NLMSGERR_ATTR = {
  NLMSGERR_ATTR_UNUSED: 0,
  NLMSGERR_ATTR_MSG: 1,
  NLMSGERR_ATTR_OFFS: 2,
  NLMSGERR_ATTR_COOKIE: 3,
  NLMSGERR_ATTR_POLICY: 4,
  NLMSGERR_ATTR_MISS_TYPE: 5,
  NLMSGERR_ATTR_MISS_NEST: 6,
} as const;

export const NLA_F = {
  NLA_F_NESTED: 0x8000,
  NLA_F_NET_BYTEORDER: 0x4000,
  NLA_TYPE_MASK: 0x3fff,
} as const;

/** sizeof(struct nlmsghdr) */
export const NLMSG_HDRLEN = 16;
/** sizeof(struct nlattr) */
export const NLA_HDRLEN = 4;
/** NLMSG_ALIGN / NLA_ALIGN: netlink aligns every message and attribute to 4 bytes. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The fixed headers of rtnetlink messages (linux/rtnetlink.h, linux/fib_rules.h). */
import { struct } from '../netlink/struct.js';

/** struct ifinfomsg (16 bytes): links. */
export const IFINFOMSG = struct('ifinfomsg', [
  ['family', 'u8'],
  ['pad', 'pad8'],
  ['type', 'u16'],
  ['index', 's32'],
  ['flags', 'u32'],
  ['change', 'u32'],
]);

/** struct ifaddrmsg (8 bytes): addresses. */
export const IFADDRMSG = struct('ifaddrmsg', [
  ['family', 'u8'],
  ['prefixlen', 'u8'],
  ['flags', 'u8'],
  ['scope', 'u8'],
  ['index', 'u32'],
]);

/** struct rtmsg (12 bytes): routes. */
export const RTMSG = struct('rtmsg', [
  ['family', 'u8'],
  ['dst_len', 'u8'],
  ['src_len', 'u8'],
  ['tos', 'u8'],
  ['table', 'u8'],
  ['protocol', 'u8'],
  ['scope', 'u8'],
  ['type', 'u8'],
  ['flags', 'u32'],
]);

/** struct fib_rule_hdr (12 bytes): policy-routing rules. */
export const FIB_RULE_HDR = struct('fib_rule_hdr', [
  ['family', 'u8'],
  ['dst_len', 'u8'],
  ['src_len', 'u8'],
  ['tos', 'u8'],
  ['table', 'u8'],
  ['res1', 'pad8'],
  ['res2', 'pad8'],
  ['action', 'u8'],
  ['flags', 'u32'],
]);

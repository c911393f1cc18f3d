/** Address families (sys/socket.h) used by rtnetlink messages. */

export const AF = {
  AF_UNSPEC: 0,
  AF_INET: 2,
  AF_BRIDGE: 7,
  AF_INET6: 10,
  AF_PACKET: 17,
} as const;

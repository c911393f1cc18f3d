/**
 * Guests as the engine holds them: a reference resolved to an open namespace (the host's
 * own refused unless asked for), and, for a detach, a guest looked into when it is still
 * there and told apart from one that is gone.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import { type ContainerState, DockerClient } from '../guest/docker-api.js';
import { parseGuestRef, type GuestRef, type ParsedGuestRef } from '../guest/ref.js';
import { resolveParsedGuest, type Guest } from '../guest/resolve.js';
import type { Netns } from '../netns/index.js';
import { openRouteIn } from '../netns/sockets.js';
import { Rtnl } from '../rtnl/index.js';
import { CNI_GUEST_ID } from './cni-owner.js';
import { guestIdOf, RECORDED_NETNS_ID } from './guest-id.js';

export class Guests {
  #docker: DockerClient | undefined;

  constructor(
    /** The container engine's API socket; absent: the default. */
    private readonly dockerHost: string | undefined,
    /** The namespace netplumb plugs into, refused as a guest like this process's own. */
    private readonly hostNs: Netns | undefined,
  ) {}

  /**
   * Resolve and hold the guest's namespace; the configured host namespace is refused like our
   * own. `inspected`: the container as just inspected (not asked for again).
   */
  async resolve(ref: ParsedGuestRef, allowHostNetns: boolean, inspected?: ContainerState): Promise<Guest> {
    const guest = await resolveParsedGuest(ref, {
      allowHostNetns,
      ...(inspected !== undefined ? { inspected } : {}),
      ...(this.dockerHost ? { dockerOptions: { host: this.dockerHost } } : {}),
    });
    if (!allowHostNetns && this.hostNs?.is(guest.identity)) {
      guest.release();
      throw new NetplumbError(
        ErrorCode.HOST_NAMESPACE_REFUSED,
        `${guest.ref} is the host namespace netplumb plugs into; refusing to change it (pass --allow-host-netns to force)`,
        { field: 'guest' },
      );
    }
    return guest;
  }

  /** A container as the engine sees it now, running or not; NOT_FOUND once removed. Equivalent to: docker inspect REF */
  container(ref: string): Promise<ContainerState> {
    this.#docker ??= new DockerClient(this.dockerHost ? { host: this.dockerHost } : {});
    return this.#docker.inspect(ref);
  }

  /** Run `fn` with netlink in the guest's namespace and its recorded id, or return undefined when the guest is gone. */
  async withLive<T>(
    ref: GuestRef,
    fn: (rtnl: Rtnl, guestId: string) => Promise<T>,
    /** The id its attachments are recorded under, when not the guest's own (a CNI runtime's container id). */
    recordedAs?: string,
  ): Promise<T | undefined> {
    let guest: Guest;
    try {
      guest = await this.resolve(parseGuestRef(ref), false);
    } catch (e) {
      // Gone, unknown, or a recorded id (`netns:cookie:N`, `netns:DEV:INO`) rather than a live reference: nothing to look at.
      // Any other invalid reference (`../x`, shell syntax) is refused, not looked up.
      const recordedId = typeof ref === 'string' && (RECORDED_NETNS_ID.test(ref) || CNI_GUEST_ID.test(ref));
      if (
        e instanceof NetplumbError &&
        (e.code === ErrorCode.NAMESPACE_GONE ||
          e.code === ErrorCode.NOT_FOUND ||
          e.code === ErrorCode.UNAVAILABLE ||
          (e.code === ErrorCode.INVALID_ARGUMENT && recordedId))
      )
        return undefined;
      throw e;
    }
    let rtnl: Rtnl;
    let guestId: string;
    try {
      const opened = await openRouteIn(guest.netns);
      rtnl = new Rtnl(opened.route);
      guestId = recordedAs ?? guestIdOf(guest, opened.netnsCookie);
    } catch (e) {
      guest.release();
      throw e;
    }
    try {
      return await fn(rtnl, guestId);
    } finally {
      rtnl.close();
      guest.release();
    }
  }
}

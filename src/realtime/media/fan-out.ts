// A publication's packets of one kind, fanned out by the media workers: the main thread hands each packet to each
// worker once, and the worker writes every subscriber's copy (see send-worker.mjs).
import { ntpTime, type RtpPacket } from 'werift';
import type { LaneMember, MemberOffsets, SendLane } from './media-workers.ts';

/** How often the members are asked to check their transport and keep their counts, ms. */
const REFRESH_MS = 100;

/** The time of one refresh pass: wall-clock ms and the 64-bit NTP time of sender reports (RFC 3550). */
export interface RefreshClock {
  ms: number;
  ntp: bigint;
}

/** A membership's counts of what the worker sent it, as last taken. */
interface MemberCounts {
  route: { lane: SendLane };
  member: LaneMember;
  packets: number;
  octets: number;
}

/** The packets and payload octets the worker sent to a member since its counts were last taken; takes them. */
export function takeCounts(m: MemberCounts): { packets: number; octets: number } {
  const packets = m.route.lane.memberPackets(m.member);
  const octets = m.route.lane.memberOctets(m.member);
  const sent = { packets: (packets - m.packets) >>> 0, octets: (octets - m.octets) >>> 0 };
  m.packets = packets;
  m.octets = octets;
  return sent;
}

/** A subscriber's sender whose packets a fan-out's workers send. */
export interface FanOutOwner {
  /**
   * Called about every REFRESH_MS while packets flow, with the last packet's timestamp and the clock of this pass (read
   * once for every member): the owner takes the worker's counts and leaves if its transport no longer takes the route
   * it joined with.
   */
  refresh(timestamp: number, clock: RefreshClock): void;
}

/**
 * A publisher's ingress on a media worker (ingress.ts): that worker sends the kind's packets to the members on its
 * lane itself, so it is told the kind's group there and whether the kind is forwarded at all.
 */
interface FanOutFeed {
  readonly lane: SendLane;
  /** The kind's group on the lane, when one is made. */
  group(group: number): void;
  /** Whether the kind is forwarded (not muted, not blocked). */
  gate(open: boolean): void;
}

interface LaneGroup {
  readonly lane: SendLane;
  readonly group: number;
  members: number;
}

/**
 * The subscribers of one publication kind whose transports send through media workers, as one group per worker.
 * Members join with their route and header template and leave at once (packets already queued are not sent to them).
 */
export class FanOut {
  private readonly groups: LaneGroup[] = [];
  private readonly owners = new Set<FanOutOwner>();
  private refreshedAt = 0;
  private closed = false;
  private feed: FanOutFeed | undefined;
  private open = true;

  /** Sets (or clears) the ingress whose worker forwards this kind on its lane. */
  useFeed(feed: FanOutFeed | undefined): void {
    this.feed = feed;
    if (!feed) return;
    const g = this.groups.find((x) => x.lane === feed.lane);
    if (g) feed.group(g.group);
    feed.gate(this.open);
  }

  /** Whether the kind is forwarded; the publication's mute and block decide. */
  setOpen(open: boolean): void {
    if (this.open === open) return;
    this.open = open;
    this.feed?.gate(open);
  }

  /**
   * Makes `owner` a member on `lane`: every packet sent from now on goes to it there, renumbered by `offsets` when given.
   * Undefined if it cannot join.
   */
  join(lane: SendLane, route: number, header: Buffer, twccAt: number, owner: FanOutOwner, offsets?: MemberOffsets): LaneMember | undefined {
    if (this.closed || !lane.alive) return undefined;
    let g = this.groups.find((x) => x.lane === lane);
    if (!g) {
      this.groups.push((g = { lane, group: lane.group(), members: 0 }));
      if (this.feed?.lane === lane) this.feed.group(g.group);
    }
    const member = lane.join(g.group, route, header, twccAt, offsets);
    if (!member) {
      this.dropIfEmpty(g);
      return undefined;
    }
    g.members++;
    this.owners.add(owner);
    return member;
  }

  /** Ends a membership; safe to repeat. */
  leave(lane: SendLane, member: LaneMember, owner: FanOutOwner): void {
    this.owners.delete(owner);
    const g = this.groups.find((x) => x.lane === lane);
    if (!lane.leave(g?.group ?? 0, member) || !g) return;
    g.members--;
    this.dropIfEmpty(g);
  }

  /** Whether any subscriber is a member. */
  get size(): number {
    return this.owners.size;
  }

  /** Hands one packet to each worker that has members, but `fannedOn`, whose worker sent it to its members already. */
  send(rtp: RtpPacket, fannedOn?: SendLane): void {
    const groups = this.groups;
    if (groups.length === 0) return;
    const h = rtp.header;
    // Members check their transport first: one whose route changed leaves, and its own send takes this packet.
    const now = performance.now();
    if (now - this.refreshedAt >= REFRESH_MS) {
      this.refreshedAt = now;
      const clock = { ms: Date.now(), ntp: ntpTime() };
      for (const o of this.owners) o.refresh(h.timestamp, clock);
    }
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      // A full ring drops the packet for this worker's members, as a full socket would.
      if (g.lane.alive && g.lane !== fannedOn) g.lane.commitGroup(g.group, rtp.payload, h.sequenceNumber, h.timestamp, h.marker);
    }
  }

  /** Forgets every group (the publication ended); members that leave later only free their slots. */
  close(): void {
    this.closed = true;
    for (const g of this.groups) g.lane.ungroup(g.group);
    this.groups.length = 0;
    this.owners.clear();
  }

  private dropIfEmpty(g: LaneGroup): void {
    if (g.members > 0) return;
    g.lane.ungroup(g.group);
    this.groups.splice(this.groups.indexOf(g), 1);
  }
}

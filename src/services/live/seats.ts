import { DomainError } from '../errors.ts';
import type { LiveRoom, Seat } from './room.ts';

/** DomainError details of seat refusals that some seat APIs answer with a code of their own. */
export const SeatErrors = {
  /** The room's seats are off, IsSeatEnabled false (100211 on lock_seat). */
  DISABLED: 'SEATS_DISABLED',
  /** The target seat is taken and the policy says not to move anyone (100210 on move_user_to_seat). */
  TAKEN: 'SEAT_TAKEN',
  /** The user is not in the room (100005 on move_user_to_seat and pick_user_on_seat). */
  NOT_MEMBER: 'NOT_MEMBER',
  /** The seat is locked (100200 on pick_user_on_seat). */
  LOCKED: 'SEAT_LOCKED',
  /** The user already holds another seat (100203 on pick_user_on_seat). */
  ALREADY_SEATED: 'ALREADY_SEATED',
} as const;

/** What move_user_to_seat does when the target seat is taken: refuse, kick the occupant off, or swap the two. */
const MovePolicy = { CANCEL: 0, FORCE: 1, SWAP: 2 } as const;
export type MovePolicy = (typeof MovePolicy)[keyof typeof MovePolicy];

const nowS = () => Math.floor(Date.now() / 1000);
const invalid = (m: string) => new DomainError('INVALID_ARGUMENT', m);
const refused = (m: string, detail?: string) => new DomainError('FAILED_PRECONDITION', m, detail);

/** `n` seats, keeping the first ones of `old`. */
export function seatList(n: number, old: Seat[] = []): Seat[] {
  return Array.from({ length: n }, (_, index) => old[index] ?? { index, member: '', locked: false, videoDisabled: false, audioDisabled: false });
}

/** A seat with nobody on it: the audio and video flags belong to the user who leaves and are reset with them. */
function vacated(s: Seat): Seat {
  return { ...s, member: '', videoDisabled: false, audioDisabled: false };
}

/** Whether two seat lists differ in anything a seat callback reports. */
export function seatsChanged(a: Seat[], b: Seat[]): boolean {
  if (a.length !== b.length) return true;
  return a.some((s, i) => s.member !== b[i]!.member || s.locked !== b[i]!.locked || s.videoDisabled !== b[i]!.videoDisabled || s.audioDisabled !== b[i]!.audioDisabled);
}

function withSeats(room: LiveRoom, seats: Seat[]): LiveRoom {
  return { ...room, state: { ...room.state, seats } };
}

function requireSeats(room: LiveRoom): void {
  if (!room.info.IsSeatEnabled) throw refused('seats are disabled in this room', SeatErrors.DISABLED);
}

function checkIndex(room: LiveRoom, index: number, field = 'Index'): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= room.info.MaxSeatCount) throw invalid(`${field} must be from 0 to ${room.info.MaxSeatCount - 1}`);
}

/** Puts a user on a free, unlocked seat (they may hold one seat only); banned users cannot sit. */
export function placeOnSeat(room: LiveRoom, user: string, index: number): LiveRoom {
  requireSeats(room);
  checkIndex(room, index);
  if ((room.state.banned[user]?.until ?? 0) > nowS()) throw refused(`${user} is banned from this room`);
  const target = room.state.seats[index]!;
  if (target.locked) throw refused(`seat ${index} is locked`, SeatErrors.LOCKED);
  if (target.member && target.member !== user) throw refused(`seat ${index} is taken by ${target.member}`, SeatErrors.TAKEN);
  if (room.state.seats.some((s) => s.member === user && s.index !== index)) throw refused(`${user} is already on another seat`, SeatErrors.ALREADY_SEATED);
  return withSeats(room, room.state.seats.map((s) => (s.index === index ? { ...s, member: user } : s)));
}

/** pick_user_on_seat: `placeOnSeat` for a user who must be in the room ("需要为房间成员", https://cloud.tencent.com/document/product/647/110668). */
export function pickOnSeat(room: LiveRoom, user: string, index: number, member: boolean): LiveRoom {
  if (!member) throw refused(`${user} is not a member of the room`, SeatErrors.NOT_MEMBER);
  return placeOnSeat(room, user, index);
}

/** Takes a user off their seat. */
export function kickFromSeat(room: LiveRoom, user: string): LiveRoom {
  if (!room.state.seats.some((s) => s.member === user)) throw refused(`${user} is not on a seat`);
  return withSeats(room, room.state.seats.map((s) => (s.member === user ? vacated(s) : s)));
}

/** Takes every listed user off their seat (nothing for users not seated). */
export function unseat(room: LiveRoom, users: string[]): LiveRoom {
  return withSeats(room, room.state.seats.map((s) => (s.member && users.includes(s.member) ? vacated(s) : s)));
}

/**
 * lock_seat: `taken` locks or unlocks the seat (locking removes whoever sits there first); `video`/`audio` forbid or
 * allow the seated user's streams and are ignored on an empty or locked seat, as the page says.
 */
export function lockSeat(room: LiveRoom, index: number, lock: { taken?: boolean; video?: boolean; audio?: boolean }): LiveRoom {
  requireSeats(room);
  checkIndex(room, index);
  let seat = room.state.seats[index]!;
  if (lock.taken !== undefined) seat = lock.taken ? { ...vacated(seat), locked: true } : { ...seat, locked: false };
  if (seat.member && !seat.locked) {
    if (lock.video !== undefined) seat = { ...seat, videoDisabled: lock.video };
    if (lock.audio !== undefined) seat = { ...seat, audioDisabled: lock.audio };
  }
  return withSeats(room, room.state.seats.map((s) => (s.index === index ? seat : s)));
}

function seatOf(room: LiveRoom, user: string): Seat | undefined {
  return room.state.seats.find((s) => s.member === user);
}

/** Moves `from`'s user (and their stream flags) to the empty seat `to`. */
function moved(room: LiveRoom, from: Seat, to: number): Seat[] {
  return room.state.seats.map((s) => {
    if (s.index === from.index) return vacated(s);
    if (s.index === to) return { ...s, member: from.member, locked: false, videoDisabled: from.videoDisabled, audioDisabled: from.audioDisabled };
    return s;
  });
}

/** switch_seat (old version): moves a seated user to an empty, unlocked seat. */
export function switchSeat(room: LiveRoom, user: string, toIndex: number): LiveRoom {
  requireSeats(room);
  checkIndex(room, toIndex, 'ToIndex');
  const from = seatOf(room, user);
  if (!from) throw refused(`${user} is not on a seat`);
  if (from.index === toIndex) return room;
  const target = room.state.seats[toIndex]!;
  if (target.locked) throw refused(`seat ${toIndex} is locked`);
  if (target.member) throw refused(`seat ${toIndex} is taken by ${target.member}`, SeatErrors.TAKEN);
  return withSeats(room, moved(room, from, toIndex));
}

/**
 * move_user_to_seat (new version): moves a seated user to `index`, unlocking it if locked; when someone sits there the
 * policy cancels (refused), kicks them off, or swaps the two users (each keeps their stream flags). `member` says
 * whether the user is in the room at all (100005 when not).
 */
export function moveToSeat(room: LiveRoom, user: string, index: number, policy: number, member: boolean): LiveRoom {
  requireSeats(room);
  checkIndex(room, index, 'SeatIndex');
  if (policy !== MovePolicy.CANCEL && policy !== MovePolicy.FORCE && policy !== MovePolicy.SWAP) throw invalid('Policy must be 0, 1 or 2');
  const from = seatOf(room, user);
  if (!from) {
    if (!member) throw refused(`${user} is not a member of the room`, SeatErrors.NOT_MEMBER);
    throw refused(`${user} is not on a seat`);
  }
  if (from.index === index) return room;
  const target = room.state.seats[index]!;
  if (!target.member) return withSeats(room, moved(room, from, index));
  if (policy === MovePolicy.CANCEL) throw refused(`seat ${index} is taken by ${target.member}`, SeatErrors.TAKEN);
  if (policy === MovePolicy.FORCE) return withSeats(room, moved(withSeats(room, room.state.seats.map((s) => (s.index === index ? vacated(s) : s))), from, index));
  return withSeats(
    room,
    room.state.seats.map((s) => {
      if (s.index === from.index) return { ...s, member: target.member, videoDisabled: target.videoDisabled, audioDisabled: target.audioDisabled };
      if (s.index === index) return { ...s, member: from.member, videoDisabled: from.videoDisabled, audioDisabled: from.audioDisabled };
      return s;
    }),
  );
}

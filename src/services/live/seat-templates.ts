/**
 * TUILiveKit seat templates: create_room's `SeatTemplate` ("Required" on the current page,
 * https://www.tencentcloud.com/document/product/647/63401) and the older numeric `SeatLayoutTemplateId` of the same
 * page's sample. The video templates fix the number of seats; `MaxSeatCount` "only applies to voice chat rooms, i.e.,
 * when SeatTemplate is set to AudioSalon or karaoke". Names and ids are those of TUILiveKit's `SeatLayoutTemplate`.
 */
export const SEAT_TEMPLATES = {
  VideoDynamicGrid9Seats: { layoutId: 600, seats: 9 },
  VideoDynamicFloat7Seats: { layoutId: 601, seats: 7 },
  VideoFixedGrid9Seats: { layoutId: 800, seats: 9 },
  VideoFixedFloat7Seats: { layoutId: 801, seats: 7 },
  VideoLandscape4Seats: { layoutId: 200, seats: 4 },
  AudioSalon: { layoutId: undefined, seats: undefined },
  Karaoke: { layoutId: undefined, seats: undefined },
} as const;

/** A template name, or '' for a room created without one (the older create_room body). */
export type SeatTemplate = keyof typeof SEAT_TEMPLATES | '';

/** Whether `name` is a known template. */
export function isSeatTemplate(name: string): name is keyof typeof SEAT_TEMPLATES {
  return Object.hasOwn(SEAT_TEMPLATES, name);
}

/** The template of a `SeatLayoutTemplateId`, or undefined when no template has that id. */
export function templateOfLayoutId(id: number): keyof typeof SEAT_TEMPLATES | undefined {
  return (Object.keys(SEAT_TEMPLATES) as Array<keyof typeof SEAT_TEMPLATES>).find((k) => SEAT_TEMPLATES[k].layoutId === id);
}

/** The fixed seat count of a video template; undefined where MaxSeatCount decides (audio templates, no template). */
export function templateSeats(t: SeatTemplate): number | undefined {
  return t === '' ? undefined : SEAT_TEMPLATES[t].seats;
}

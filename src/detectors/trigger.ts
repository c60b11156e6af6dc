/**
 * A candidate test of a detector, as data: at a candidate position `p`,
 * `(bytes[p] & firstMask) === first` and `(bytes[p + at] & mask) === equals`. Two bytes only: the
 * candidate kernel tests 16 positions at once, and the fewer bytes a test reads, the faster it runs
 * (measured). A trigger is only a hint: the detector validates every candidate.
 */
export type Trigger = {
  first: number;
  /** Default 0xff. */
  firstMask?: number;
  /** Offset of the second byte tested (1..15). */
  at: number;
  equals: number;
  /** Default 0xff. */
  mask?: number;
};

/** Bytes a set of triggers may look ahead of a candidate position. */
export function triggerLookahead(triggers: readonly Trigger[]): number {
  return Math.max(0, ...triggers.map((trigger) => trigger.at));
}

/** True when `trigger` holds at `pos` (bytes past the end read as 0). */
export function triggerHolds(trigger: Trigger, bytes: Uint8Array, pos: number): boolean {
  return ((bytes[pos] ?? 0) & (trigger.firstMask ?? 0xff)) === trigger.first && ((bytes[pos + trigger.at] ?? 0) & (trigger.mask ?? 0xff)) === trigger.equals;
}

/** A string pattern as a trigger: its first byte and the byte at `at`. */
export function textTrigger(text: string, at: number): Trigger {
  return { first: text.charCodeAt(0), at, equals: text.charCodeAt(at) };
}

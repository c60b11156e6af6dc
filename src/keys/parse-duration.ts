import { EicBuildError } from '../errors.js';

const UNIT_SECONDS: Record<string, number> = { '': 86_400, d: 86_400, w: 7 * 86_400, m: 30 * 86_400, y: 365 * 86_400 };

/**
 * Parse a key lifetime the way gpg's Expire-Date does: "0" or "never" for no expiry, N (days),
 * Nd, Nw, Nm (30-day months) or Ny (365-day years). Returns seconds; 0 means never.
 */
export function parseDuration(text: string, flag = '--expires'): number {
  const value = text.trim().toLowerCase();
  if (value === '0' || value === 'never') return 0;
  const match = /^(\d+)([dwmy]?)$/.exec(value);
  const count = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(count) || count <= 0) {
    throw new EicBuildError('usage', `${flag} '${text}' is not a duration`, { hint: `use 0 or never (no expiry), or a count with a unit: 90d, 12w, 6m, 2y` });
  }
  return count * (UNIT_SECONDS[match[2] ?? ''] ?? 86_400);
}

/** Format seconds back into the shortest exact duration parseDuration accepts. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return 'never';
  for (const unit of ['y', 'm', 'w', 'd'] as const) {
    const size = UNIT_SECONDS[unit] as number;
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${Math.round(seconds / 86_400)}d`;
}

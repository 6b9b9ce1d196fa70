/**
 * The rate limits the workload must stay under (plugins/rate-limit.ts, the routes' `app.limit`,
 * plugins/passwords.ts): the workload expects every answer to be the right one, so it never sends
 * a request a limit would refuse. Windows are fixed and start at their first request.
 */
const LIMITS = {
  /** MedReport's protected group, per user. */
  api: { max: 120, windowMs: 60_000 },
  /** /api/sync/*, per user. */
  sync: { max: 60, windowMs: 3_600_000 },
  /** POST /api/files, per user. */
  upload: { max: 20, windowMs: 3_600_000 },
  /** POST /api/login, per address. */
  login: { max: 5, windowMs: 60_000 },
  /** argon2 hashes, per address and per account (both APIs). */
  hashAddress: { max: 20, windowMs: 60_000 },
  hashAccount: { max: 10, windowMs: 60_000 },
  /** PtitsPas authenticated routes, per account; public routes, per address. */
  ptitspas: { max: 100, windowMs: 60_000 },
  ptitspasPublic: { max: 100, windowMs: 60_000 },
  ptitspasLogin: { max: 10, windowMs: 60_000 },
  ptitspasUpload: { max: 60, windowMs: 3_600_000 },
} as const;

type LimitName = keyof typeof LIMITS;

/**
 * The server's window starts when the first request arrives, after ours (a scenario's first
 * request may wait behind a login's password hash): ours lasts longer, so it never reopens first.
 */
const WINDOW_MARGIN_MS = 10_000;

/** One unit of `limit` for `subject` (a user, an account, an address). */
export type Charge = [limit: LimitName, subject: string | number];

/** What the workload has spent of each limit, per subject. */
export class Budgets {
  readonly #windows = new Map<string, { start: number; used: number }>();

  /**
   * Spends every charge (a charge listed twice spends two units) if each limit has enough left;
   * nothing otherwise. A scenario reserves all its requests at once, so it never stops halfway.
   */
  take(charges: Charge[]): boolean {
    const now = Date.now();
    const wanted = new Map<string, { limit: LimitName; units: number }>();
    for (const [limit, subject] of charges) {
      const key = `${limit}:${subject}`;
      wanted.set(key, { limit, units: (wanted.get(key)?.units ?? 0) + 1 });
    }
    const spends = [...wanted].map(([key, { limit, units }]) => {
      const window = this.#windows.get(key);
      const expired = !window || now - window.start > LIMITS[limit].windowMs + WINDOW_MARGIN_MS;
      return { key, units, used: expired ? 0 : window.used, start: expired ? now : window.start, limit };
    });
    if (spends.some(({ used, units, limit }) => used + units > LIMITS[limit].max)) return false;
    for (const { key, units, used, start } of spends) this.#windows.set(key, { start, used: used + units });
    return true;
  }
}

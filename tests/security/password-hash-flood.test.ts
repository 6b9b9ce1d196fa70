import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefusalPacer } from '../../plugins/errors.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { PTITSPAS_PASSWORD, type PtitsPasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { bearer, registerUser, uniqueEmail } from '../helpers/users.js';

// One caller hammering routes that hash passwords must neither fill the shared argon2 queue nor
// make other people's logins wait behind its flood. The hashes here are cheap but real (a few ms
// each), one at a time, so a flood does build a queue.

const owner = await testDb();
// A cost high enough that queued work takes visible time (~30 ms a hash), low enough for a test:
// with cheaper hashes, a loaded machine (coverage, parallel files) spreads the flood's arrivals
// until no queue forms, and the test no longer shows what it is about.
const cost = { memoryCost: 16384, timeCost: 4, parallelism: 1 };

type Account = Awaited<ReturnType<typeof registerUser>>;

type Send = () => Promise<{ statusCode: number; headers: Record<string, unknown> }>;

/**
 * Sends the flood at once, then, as soon as its first request is refused (its places in the queue
 * are all taken) or it has all been answered, the others; resolves with every answer and the order in which they came back.
 */
async function floodThen(flood: Send[], others: Record<string, Send>) {
  const order: string[] = [];
  let firstRefusal!: () => void;
  const refusedOnce = new Promise<void>((resolve) => (firstRefusal = resolve));
  const answer = async (name: string, send: Send) => {
    const res = await send();
    order.push(name);
    if (res.statusCode === 429 || res.statusCode === 503) firstRefusal();
    return { name, status: res.statusCode, retryAfter: res.headers['retry-after'] };
  };
  const flooding = flood.map((send, i) => answer(`flood-${i}`, send));
  await Promise.race([refusedOnce, Promise.all(flooding)]); // (a flood never refused is a failure below)
  const answers = await Promise.all([...flooding, ...Object.entries(others).map(([name, send]) => answer(name, send))]);
  return { answers, order };
}

describe('issue 21 item 3: one caller flooding the password-hash queue', () => {
  let app: App;
  let flooder: Account;
  let other: Account;
  let ptitspas: PtitsPasAccount;

  beforeAll(async () => {
    app = await buildTestApp({ config: { passwordHashing: cost, passwordHashConcurrency: 1 } });
    flooder = await registerUser(app);
    other = await registerUser(app);
    ptitspas = await ptitspasSuperAdmin(app);
  });
  afterAll(async () => {
    await app.close();
  });

  const changeEmail = () =>
    app.inject({
      method: 'PUT',
      url: '/api/user/profile/email',
      remoteAddress: '10.0.0.66',
      headers: bearer(flooder.token),
      payload: { email: uniqueEmail('moved'), current_password: 'not the password' },
    });

  it('refuses the flooding account its excess, and admits another account’s logins at once', async () => {
    const { answers, order } = await floodThen(Array(30).fill(changeEmail), {
      'medreport-login': () =>
        app.inject({
          method: 'POST',
          url: '/api/login',
          remoteAddress: '10.0.0.7',
          payload: { email: other.email, password: other.password },
        }),
      'ptitspas-login': () =>
        app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: '10.0.0.8',
          payload: { email: ptitspas.email, password: PTITSPAS_PASSWORD },
        }),
    });
    const flood = answers.filter((a) => a.name.startsWith('flood'));
    const refused = flood.filter((a) => a.status === 429 || a.status === 503);
    const checked = flood.filter((a) => a.status === 422); // the wrong current password, verified
    expect(refused.length, JSON.stringify(flood.map((a) => a.status))).toBeGreaterThanOrEqual(15);
    for (const r of refused) expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(checked.length).toBeGreaterThan(0);
    expect(answers.find((a) => a.name === 'medreport-login')!.status).toBe(200);
    expect(answers.find((a) => a.name === 'ptitspas-login')!.status).toBe(200);
    // Both logins were served before the flood's last admitted hash: they did not wait behind it.
    const lastChecked = Math.max(...checked.map((c) => order.indexOf(c.name)));
    expect(order.indexOf('medreport-login')).toBeLessThan(lastChecked);
    expect(order.indexOf('ptitspas-login')).toBeLessThan(lastChecked);
  });

  it('serves a newcomer before an address’s queued flood of logins, and bounds that flood', async () => {
    const guess = () =>
      app.inject({
        method: 'POST',
        url: '/api/login',
        remoteAddress: '10.0.0.99',
        payload: { email: uniqueEmail('guess'), password: 'guessing' },
      });
    const { answers, order } = await floodThen(Array(40).fill(guess), {
      newcomer: () =>
        app.inject({
          method: 'POST',
          url: '/api/login',
          remoteAddress: '10.0.0.12',
          payload: { email: other.email, password: other.password },
        }),
    });
    const guesses = answers.filter((a) => a.name.startsWith('flood'));
    const refused = guesses.filter((a) => a.status === 429 || a.status === 503);
    const verified = guesses.filter((a) => a.status === 401);
    expect(refused.length).toBeGreaterThan(0);
    expect(verified.length).toBeGreaterThan(5);
    expect(answers.find((a) => a.name === 'newcomer')!.status).toBe(200);
    // Of the guesses that did get hashed, most were still waiting when the newcomer was answered.
    const newcomerAt = order.indexOf('newcomer');
    const verifiedAfter = verified.filter((v) => order.indexOf(v.name) > newcomerAt).length;
    expect(verifiedAfter).toBeGreaterThanOrEqual(verified.length - 2);
  });
});

describe('issue 21 item 3: hashing is limited per account and per address, at the cost of each route', () => {
  let app: App;

  beforeAll(async () => {
    app = await buildTestApp({ config: { rateLimits: true } });
  });
  afterAll(async () => {
    await app.close();
    await owner.db.destroy();
  });

  const changeEmail = (account: Account, remoteAddress: string) =>
    app.inject({
      method: 'PUT',
      url: '/api/user/profile/email',
      remoteAddress,
      headers: bearer(account.token),
      payload: { email: uniqueEmail('moved'), current_password: 'not the password' },
    });

  it('gives one account 10 hashes a minute, its registration included, then 429 with Retry-After; others are still served', async () => {
    const account = await registerUser(app);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await changeEmail(account, `10.1.0.${i + 1}`)).statusCode);
    // The registration took the first of the account's 10.
    expect(statuses).toEqual([...Array(9).fill(422), 429, 429, 429]);
    const refused = await changeEmail(account, '10.1.0.99');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ success: false, message: expect.stringContaining('Trop') });

    const bystander = await registerUser(app, {}, { remoteAddress: '10.1.1.1' });
    const login = await app.inject({
      method: 'POST',
      url: '/api/login',
      remoteAddress: '10.1.1.2',
      payload: { email: bystander.email, password: bystander.password },
    });
    expect(login.statusCode).toBe(200);
  });

  it('counts a password change as two hashes (the current one checked, the new one made)', async () => {
    const account = await registerUser(app, {}, { remoteAddress: '10.2.0.1' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await app.inject({
        method: 'PUT',
        url: '/api/user/profile/password',
        remoteAddress: `10.2.0.${i + 10}`,
        headers: bearer(account.token),
        payload: {
          current_password: account.password,
          password: account.password,
          password_confirmation: account.password,
        },
      });
      statuses.push(res.statusCode);
    }
    // The registration took one hash: 4 changes of 2 fill the 10, the fifth is refused.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('gives one address 20 hashes a minute, whichever accounts it uses', async () => {
    const accounts = await Promise.all([1, 2, 3].map((i) => registerUser(app, {}, { remoteAddress: `10.3.1.${i}` })));
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) statuses.push((await changeEmail(accounts[i % 3]!, '10.3.0.1')).statusCode);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(422));
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);
  });
});

describe('issue 21 item 3: refusals are paced, so a flood cannot take a core in refusals alone', () => {
  it('holds each 429 for the delay, at most 32 per address and 1,000 in all', async () => {
    const pacer = new RefusalPacer(80, 32, 40);
    const timed = async (address: string) => {
      const started = performance.now();
      await pacer.hold(address);
      return performance.now() - started;
    };
    const flood = await Promise.all([
      ...Array.from({ length: 35 }, () => timed('10.9.0.1')),
      ...Array.from({ length: 10 }, () => timed('10.9.0.2')),
    ]);
    const [first, second] = [flood.slice(0, 35), flood.slice(35)];
    // 32 of the first address held, 3 at once; the second address gets the 8 places left in all.
    expect(first.filter((ms) => ms >= 75)).toHaveLength(32);
    expect(second.filter((ms) => ms >= 75)).toHaveLength(8);
    // Released: the places are free again.
    expect(await timed('10.9.0.1')).toBeGreaterThanOrEqual(75);
  });

  it('holds a flooding account’s refusals in the app', async () => {
    const app = await buildTestApp({
      config: { passwordHashing: cost, passwordHashConcurrency: 1, refusalDelayMs: 300 },
    });
    try {
      const account = await registerUser(app);
      const started = performance.now();
      // More than the account's 10 hashes a minute: some are refused whatever the timing.
      const answers = await Promise.all(
        Array.from({ length: 14 }, async () => {
          const res = await app.inject({
            method: 'PUT',
            url: '/api/user/profile/email',
            headers: bearer(account.token),
            payload: { email: uniqueEmail('moved'), current_password: 'not the password' },
          });
          return { status: res.statusCode, ms: performance.now() - started };
        }),
      );
      const refused = answers.filter((a) => a.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect(r.ms).toBeGreaterThanOrEqual(290);
    } finally {
      await app.close();
    }
  });
});

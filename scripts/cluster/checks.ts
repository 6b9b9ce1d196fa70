import { DEMO_PASSWORD } from '../../db/seed-demo.js';
import { type MedReportUser, medreportLogin, newAddress, type PtitsPasAccount, ptitspasLogin } from './accounts.js';
import { formWith, pdfBytes, sha256 } from './scenario.js';
import type { Traffic } from './traffic.js';

/** One assertion of the run: its name, whether it held, and what was seen. */
export interface Assertion {
  name: string;
  passed: boolean;
  details: string[];
}

const A = 0;
const B = 1;
const nameOf = (side: number) => (side === A ? 'A' : 'B');

/** Logouts per direction, a login each (an account may cost 10 password hashes a minute: HASH_BUDGET, plugins/passwords.ts). */
const LOGOUT_TRIALS = 10;
/** Refreshes per direction: each revokes the token it replaces, without a password hash. */
const REFRESH_TRIALS = 40;

/**
 * How late an instance may still accept a token revoked through another one: the time it takes
 * to read the revocation's notification (docs/auth.md, "Session cache"; both APIs cache callers).
 */
const LATE_BOUND_MS = 100;

/**
 * MedReport: a token whose session the other instance has just checked (so it holds it in its
 * cache) is revoked through this one, then asked of the other instance at once. REFRESH_TRIALS
 * refreshes from one login, then LOGOUT_TRIALS logouts, each but the first after a login from an
 * address of its own (the login limit is per address). Returns what was seen and, for each token
 * the very next request still saw accepted, how long until it was refused (Infinity: never).
 */
async function medreportRevocation(
  traffic: Traffic,
  user: MedReportUser,
  from: number,
): Promise<{ lines: string[]; lateMs: number[] }> {
  const to = 1 - from;
  const revoke = (token: string, path: '/api/logout' | '/api/auth/refresh') =>
    traffic.send(from, { method: 'POST', path, route: `POST ${path}`, expect: 200, token });
  const lateMs: number[] = [];
  const refused = { logout: 0, refresh: 0 };
  const trial = async (kind: 'logout' | 'refresh') => {
    const token = user.token!;
    await traffic.send(to, { method: 'GET', path: '/api/user', route: 'GET /api/user', expect: 200, token });
    const answer = await revoke(token, kind === 'logout' ? '/api/logout' : '/api/auth/refresh');
    if (!answer.ok) return false;
    if (kind === 'refresh') user.token = (answer.body as { token: string }).token;
    const late = await msUntilRefused(traffic, to, token);
    if (late === 0) refused[kind]++;
    else lateMs.push(late);
    return true;
  };
  const failed = (what: string) => ({ lines: [what], lateMs: [Number.POSITIVE_INFINITY] });
  if (!(await medreportLogin(traffic, from, user))) return failed('login failed');
  for (let n = 1; n <= REFRESH_TRIALS; n++) if (!(await trial('refresh'))) return failed(`refresh ${n} failed`);
  for (let n = 1; n <= LOGOUT_TRIALS; n++) {
    if (n > 1) user.address = newAddress();
    if ((n > 1 && !(await medreportLogin(traffic, from, user))) || !(await trial('logout'))) {
      return failed(`logout ${n} failed`);
    }
  }
  const lines = [
    `revocations on ${nameOf(from)}, each after ${nameOf(to)} cached the token, refused by ${nameOf(to)}'s very next request: ` +
      `logouts ${refused.logout}/${LOGOUT_TRIALS}, refreshes ${refused.refresh}/${REFRESH_TRIALS}`,
  ];
  if (lateMs.length > 0) {
    lines.push(`accepted once more, then refused after: ${lateMs.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}`);
  }
  return { lines, lateMs };
}

/**
 * Asks `side`'s `path` with a revoked token until it refuses it, at once each time (outside the
 * counted traffic: a measure); 0 when the first answer is already 401, Infinity when none is within 200.
 */
async function msUntilRefused(traffic: Traffic, side: number, token: string, path = '/api/user'): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${traffic.instances[side]!.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    if (res.status === 401) return i === 0 ? 0 : performance.now() - started;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * PtitsPas: after a logout through A, B (which holds the login in its caller cache) refuses the
 * access token, at the latest LATE_BOUND_MS later, and the refresh token at once.
 */
async function ptitspasRevocation(
  traffic: Traffic,
  account: PtitsPasAccount,
): Promise<{ lines: string[]; lateMs: number[] }> {
  if (!(await ptitspasLogin(traffic, A, account)))
    return { lines: ['login failed'], lateMs: [Number.POSITIVE_INFINITY] };
  const { access = '', refresh } = account;
  const me = await traffic.send(B, {
    method: 'GET',
    path: '/api/v1/auth/me',
    route: 'GET /api/v1/auth/me',
    expect: 200,
    token: access,
  });
  const seen = [`GET /api/v1/auth/me on B: ${me.status}`];
  const out = await traffic.send(A, {
    method: 'POST',
    path: '/api/v1/auth/logout',
    route: 'POST /api/v1/auth/logout',
    expect: 200,
    token: access,
  });
  seen.push(`POST /api/v1/auth/logout on A: ${out.status}`);
  const late = await msUntilRefused(traffic, B, access, '/api/v1/auth/me');
  seen.push(
    late === 0
      ? 'GET /api/v1/auth/me on B refused by the very next request'
      : `GET /api/v1/auth/me on B accepted once more, then refused after ${late.toFixed(1)} ms`,
  );
  const refreshed = await traffic.send(B, {
    method: 'POST',
    path: '/api/v1/auth/refresh',
    route: 'POST /api/v1/auth/refresh',
    expect: 401,
    json: { refresh_token: refresh },
  });
  seen.push(`POST /api/v1/auth/refresh on B: ${refreshed.status}`);
  return { lines: seen, lateMs: late === 0 ? [] : [late] };
}

export async function checkRevocation(
  traffic: Traffic,
  users: [MedReportUser, MedReportUser],
  parent: PtitsPasAccount,
): Promise<Assertion> {
  const before = traffic.failures.length;
  const aToB = await medreportRevocation(traffic, users[0], A);
  const bToA = await medreportRevocation(traffic, users[1], B);
  const ptitspas = await ptitspasRevocation(traffic, parent);
  const details = [
    ...aToB.lines.map((line) => `MedReport A→B: ${line}`),
    ...bToA.lines.map((line) => `MedReport B→A: ${line}`),
    ...ptitspas.lines.map((line) => `PtitsPas: ${line}`),
  ];
  const withinBound = [...aToB.lateMs, ...bToA.lateMs, ...ptitspas.lateMs].every((ms) => ms <= LATE_BOUND_MS);
  return {
    name: `a token revoked on one instance is refused on the other at once (at the latest ${LATE_BOUND_MS} ms later, both APIs)`,
    passed: traffic.failures.length === before && withinBound,
    details,
  };
}

/** The spec's login limit (5 a minute per address), counted in Redis for both instances. */
const LOGIN_LIMIT = 5;

/**
 * Logins from one address, alternating A and B: the first LOGIN_LIMIT succeed, and the next
 * (whichever instance gets it) is refused. Per-instance counters would let twice as many through.
 */
export async function checkSharedRateLimit(traffic: Traffic, user: MedReportUser): Promise<Assertion> {
  const statuses: string[] = [];
  let passed = true;
  for (let i = 0; i < LOGIN_LIMIT + 2; i++) {
    const expect = i < LOGIN_LIMIT ? 200 : 429;
    const answer = await traffic.send(i % 2, {
      method: 'POST',
      path: '/api/login',
      route: 'POST /api/login',
      expect,
      json: { email: user.email, password: DEMO_PASSWORD },
      address: user.address,
    });
    passed &&= answer.ok;
    statuses.push(`${nameOf(i % 2)} ${answer.status}`);
  }
  return {
    name: `rate limits add up across A and B (POST /api/login, ${LOGIN_LIMIT} a minute per address)`,
    passed,
    details: [`logins from ${user.address}, alternating: ${statuses.join(', ')}`],
  };
}

/** A larger file each way: a MedReport attachment written through A, a PtitsPas upload through B. */
export async function checkFilesAcrossInstances(
  traffic: Traffic,
  user: MedReportUser,
  parent: PtitsPasAccount,
): Promise<Assertion> {
  const details: string[] = [];
  let passed = true;
  const note = (what: string, same: boolean) => {
    passed &&= same;
    details.push(`${what}: ${same ? 'byte-identical' : 'DIFFERENT'}`);
  };
  if (!(await medreportLogin(traffic, A, user))) return { name: filesName, passed: false, details: ['login failed'] };
  const token = user.token;
  const patients = await traffic.send(A, {
    method: 'GET',
    path: '/api/patients?limit=1',
    route: 'GET /api/patients',
    expect: 200,
    token,
  });
  const owner = (patients.body as { data: Array<{ uuid: string }> } | undefined)?.data[0]?.uuid ?? '';
  const attachment = pdfBytes(256 * 1024);
  const uploaded = await traffic.send(A, {
    method: 'POST',
    path: '/api/files',
    route: 'POST /api/files',
    expect: 201,
    token,
    form: formWith({ owner_type: 'patient', owner_uuid: owner }, 'file', attachment, 'radio.pdf'),
  });
  const fileUuid = (uploaded.body as { uuid?: string } | undefined)?.uuid;
  const download = await traffic.send(B, {
    method: 'GET',
    path: `/api/files/${fileUuid}`,
    route: 'GET /api/files/:uuid',
    expect: 200,
    token,
  });
  note(
    `MedReport attachment (256 KiB) written through A, read through B`,
    download.ok && sha256(download.bytes) === sha256(attachment),
  );

  if (!(await ptitspasLogin(traffic, B, parent)))
    return { name: filesName, passed: false, details: [...details, 'PtitsPas login failed'] };
  const piece = pdfBytes(512 * 1024);
  const sent = await traffic.send(B, {
    method: 'POST',
    path: '/api/v1/uploads',
    route: 'POST /api/v1/uploads',
    expect: 201,
    token: parent.access,
    form: formWith({ categorie: 'carnet_vaccination' }, 'fichier', piece, 'carnet.pdf'),
  });
  const uploadId = (sent.body as { id?: string } | undefined)?.id;
  const content = await traffic.send(A, {
    method: 'GET',
    path: `/api/v1/uploads/${uploadId}/contenu`,
    route: 'GET /api/v1/uploads/:id/contenu',
    expect: 200,
    token: parent.access,
  });
  note(
    `PtitsPas upload (512 KiB) written through B, read through A`,
    content.ok && sha256(content.bytes) === sha256(piece),
  );
  return { name: filesName, passed, details };
}

const filesName = 'a file written through one instance reads back byte-identical through the other';

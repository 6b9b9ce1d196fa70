import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { oauthProfiles, startOAuthProvider } from '../helpers/oauth.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { bearer, registerUser, uniqueEmail } from '../helpers/users.js';

// The attack of the review, end to end through the real OAuth flow (a local OAuth2 server stands
// in for Google and GitHub): someone registers with the victim's address and a password of their
// own, then waits for the victim's first social sign-in.

const oauth = await startOAuthProvider();
const smtp = await startSmtpServer();
let app: App;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp({
    config: {
      publicUrl: 'http://api.test',
      smtpUrl: smtp.url,
      oauth: { google: oauth.config('google'), github: oauth.config('github') },
    },
  });
});
afterAll(async () => {
  await app.close();
  await oauth.stop();
  await smtp.close();
  await owner.db.destroy();
});

const login = (email: string, password: string) =>
  app.inject({ method: 'POST', url: '/api/login', payload: { email, password } });
const user = (token: string) => app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) });

describe('issue 21 item 1: OAuth pre-account takeover', () => {
  it('the victim’s Google sign-in takes the account over: the attacker’s password and sessions stop working', async () => {
    const victimEmail = uniqueEmail('victim');
    const attacker = await registerUser(app, {
      email: victimEmail,
      password: 'attacker passphrase',
      password_confirmation: 'attacker passphrase',
    });
    expect((await user(attacker.token)).statusCode).toBe(200);
    // The attacker also asks for a reset link (it goes to the victim's mailbox, but must die too).
    await app.inject({ method: 'POST', url: '/api/forgot-password', payload: { email: victimEmail } });

    const signIn = await oauth.login(app, 'google', oauthProfiles.google(victimEmail, 'google-victim-1'));
    expect(signIn.statusCode, signIn.body).toBe(200);
    const victim = signIn.json();
    expect(victim.user.id).toBe(attacker.user.id); // the address's account, now the victim's alone
    expect(victim.user.email_verified_at).not.toBeNull();

    // Nothing the attacker held still opens the account.
    const old = await user(attacker.token);
    expect(old.statusCode).toBe(401);
    expect(old.json()).toMatchObject({ success: false });
    expect((await login(victimEmail, 'attacker passphrase')).statusCode).toBe(401);
    const stored = await owner.pool.query(
      `select password_hash, email_verified_at,
              (select count(*)::int from medreport.sessions where user_id = u.id and revoked_at is null) as live_sessions,
              (select count(*)::int from medreport.password_resets where user_id = u.id and used_at is null) as live_resets
         from medreport.users u where id = $1`,
      [attacker.user.id],
    );
    expect(stored.rows[0]).toMatchObject({ password_hash: null, live_sessions: 1, live_resets: 0 });
    expect(stored.rows[0].email_verified_at).not.toBeNull();
    expect((await user(victim.token)).json().email).toBe(victimEmail);

    // Written down where the account's activity is: without an organization, the platform's log.
    const logged = await owner.pool.query(
      `select action, entity_type, entity_uuid from medreport.platform_activity_log where entity_uuid = $1`,
      [attacker.user.uuid],
    );
    expect(logged.rows).toEqual([
      { action: 'user.oauth_takeover', entity_type: 'user', entity_uuid: attacker.user.uuid },
    ]);
  });

  it('an identity the attacker linked before moving the account to the victim’s address is unlinked', async () => {
    const attackerEmail = uniqueEmail('attacker');
    const victimEmail = uniqueEmail('victim');
    // The attacker signs in with their own GitHub (verified for their own address)...
    const linked = await oauth.login(app, 'github', oauthProfiles.github(attackerEmail, '777001'));
    expect(linked.statusCode).toBe(200);
    const attacker = linked.json();
    // ...gives the account a password through their own mailbox...
    await app.inject({ method: 'POST', url: '/api/forgot-password', payload: { email: attackerEmail } });
    const mail = await smtp.waitFor(attackerEmail);
    const token = new URL(/http\S+reset-password\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;
    const reset = await app.inject({
      method: 'POST',
      url: '/api/reset-password',
      payload: {
        email: attackerEmail,
        token,
        password: 'attacker passphrase',
        password_confirmation: 'attacker passphrase',
      },
    });
    expect(reset.statusCode, reset.body).toBe(200);
    const session = (await login(attackerEmail, 'attacker passphrase')).json().token;
    // ...then moves the account to the victim's address (unverified from then on).
    const moved = await app.inject({
      method: 'PUT',
      url: '/api/user/profile/email',
      headers: bearer(session),
      payload: { email: victimEmail, current_password: 'attacker passphrase' },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().user.email_verified_at).toBeNull();

    const victim = await oauth.login(app, 'google', oauthProfiles.google(victimEmail, 'google-victim-2'));
    expect(victim.statusCode).toBe(200);
    expect(victim.json().user.id).toBe(attacker.user.id);

    // The attacker's GitHub no longer opens the victim's account: it makes a new one.
    const back = await oauth.login(app, 'github', oauthProfiles.github(attackerEmail, '777001'));
    expect(back.statusCode).toBe(200);
    expect(back.json().user.id).not.toBe(attacker.user.id);
    expect(back.json().user.email).toBe(attackerEmail);
    expect((await user(session)).statusCode).toBe(401);
    const identities = await owner.pool.query('select provider from medreport.oauth_identities where user_id = $1', [
      attacker.user.id,
    ]);
    expect(identities.rows).toEqual([{ provider: 'google' }]);
  });

  it('a verified account is linked as before: its password and sessions stay', async () => {
    const email = uniqueEmail('verified');
    const first = await oauth.login(app, 'google', oauthProfiles.google(email, 'google-verified-1'));
    const account = first.json();
    const second = await oauth.login(app, 'github', oauthProfiles.github(email, '888001'));
    expect(second.statusCode).toBe(200);
    expect(second.json().user.id).toBe(account.user.id);
    expect((await user(account.token)).statusCode).toBe(200);
    const logged = await owner.pool.query(
      `select 1 from medreport.activity_log where action = 'user.oauth_takeover' and entity_uuid = $1
       union all
       select 1 from medreport.platform_activity_log where action = 'user.oauth_takeover' and entity_uuid = $1`,
      [account.user.uuid],
    );
    expect(logged.rows).toEqual([]);
  });
});

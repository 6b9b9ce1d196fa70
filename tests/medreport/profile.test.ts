import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { multipart, PNG } from '../helpers/multipart.js';
import { createOrganization } from '../helpers/tenants.js';
import { bearer, PASSWORD, registerUser, uniqueEmail } from '../helpers/users.js';

let app: App;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(() => app.close());

const avatarFile = (name: string) => path.join(app.config.dataDir, 'files', 'avatars', name);

function uploadAvatar(token: string, data: Buffer, fields: Record<string, string> = {}, filename = 'me.png') {
  const form = multipart({ ...fields, avatar: { filename, contentType: 'image/png', data } });
  return app.inject({
    method: 'PUT',
    url: '/api/user/profile',
    headers: { ...bearer(token), ...form.headers },
    payload: form.payload,
  });
}

describe('GET /api/user/profile', () => {
  it('answers the user and a message', async () => {
    const { token, user } = await registerUser(app);
    const res = await app.inject({ method: 'GET', url: '/api/user/profile', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user, message: 'Profil récupéré avec succès' });
  });
});

describe('PUT /api/user/profile', () => {
  it('updates from JSON and answers the user both at the top level and under `user`', async () => {
    const { token } = await registerUser(app);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/user/profile',
      headers: bearer(token),
      payload: { name: 'Jane Updated', phone: '+33600000000', speciality: 'Pédiatrie', birth_date: '1979-12-31' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.message).toBe('Profil mis à jour avec succès');
    expect(body.user).toMatchObject({ name: 'Jane Updated', phone: '+33600000000', speciality: 'Pédiatrie' });
    expect(body.name).toBe('Jane Updated');
    expect(body.id).toBe(body.user.id);
  });

  it('refuses invalid fields with 422', async () => {
    const { token } = await registerUser(app);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/user/profile',
      headers: bearer(token),
      payload: { name: '', birth_date: '2999-01-01' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toHaveProperty('name');
  });

  it('stores an avatar sent as multipart/form-data under a random name, private to its owner, and replaces it', async () => {
    const { token } = await registerUser(app);
    const res = await uploadAvatar(token, PNG, { name: 'With Avatar' });
    expect(res.statusCode, res.body).toBe(200);
    const updated = res.json().user;
    expect(updated.name).toBe('With Avatar');
    // 128 random bits: nothing in the name to guess from the user id or the time.
    expect(updated.avatar).toMatch(/^[A-Za-z0-9_-]{22}\.png$/);
    expect(updated.avatar_url).toBe(`${app.config.publicUrl}/api/user/avatar/${updated.avatar}`);
    expect(statSync(avatarFile(updated.avatar)).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(avatarFile(updated.avatar))).mode & 0o777).toBe(0o700);

    const own = await app.inject({ method: 'GET', url: `/api/user/avatar/${updated.avatar}`, headers: bearer(token) });
    expect(own.statusCode).toBe(200);
    expect(own.headers['content-type']).toBe('image/png');
    expect(own.rawPayload.equals(PNG)).toBe(true);
    expect((await app.inject({ method: 'GET', url: `/api/user/avatar/${updated.avatar}` })).statusCode).toBe(401);

    const again = await uploadAvatar(token, PNG);
    expect(again.statusCode).toBe(200);
    expect(again.json().user.avatar).not.toBe(updated.avatar);
    expect(existsSync(avatarFile(updated.avatar))).toBe(false);
    expect(existsSync(avatarFile(again.json().user.avatar))).toBe(true);
  });

  it('shows an avatar to members of its owner’s organization, and to nobody else', async () => {
    const clinic = await createOrganization(app, 'Avatars');
    const elsewhere = await createOrganization(app, 'Elsewhere');
    const loner = await registerUser(app);
    const res = await uploadAvatar(clinic.doctor.token, PNG);
    const url = `/api/user/avatar/${res.json().user.avatar}`;
    const get = (headers: Record<string, string>) => app.inject({ method: 'GET', url, headers });

    expect((await get(clinic.owner.headers)).statusCode).toBe(200);
    for (const stranger of [elsewhere.owner.headers, elsewhere.doctor.headers, bearer(loner.token)]) {
      const denied = await get(stranger);
      expect(denied.statusCode).toBe(404);
      expect(denied.json()).toMatchObject({ success: false, message: 'Avatar introuvable.' });
    }
    // A name that does not exist answers the same.
    const unknown = await app.inject({
      method: 'GET',
      url: '/api/user/avatar/AAAAAAAAAAAAAAAAAAAAAA.png',
      headers: clinic.owner.headers,
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('judges the avatar by its content, not its name', async () => {
    const { token } = await registerUser(app);
    const res = await uploadAvatar(token, Buffer.from('%PDF-1.4 not an image at all'), {}, 'photo.png');
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual({ avatar: ["L'avatar doit être une image JPEG, PNG ou WebP."] });
  });

  it('refuses an avatar over 2 MB with 413 and keeps the profile unchanged', async () => {
    const { token } = await registerUser(app);
    const big = Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]);
    const res = await uploadAvatar(token, big, { name: 'Should Not Stick' });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ success: false, message: 'Le fichier dépasse la taille maximale autorisée.' });
    const profile = await app.inject({ method: 'GET', url: '/api/user/profile', headers: bearer(token) });
    expect(profile.json().user.name).toBe('Dr Test');
    expect(profile.json().user.avatar).toBeNull();
  });

  it('answers 400 to a multipart body cut short, and keeps the profile unchanged', async () => {
    const { token } = await registerUser(app);
    const form = multipart({
      name: 'Cut Short',
      avatar: { filename: 'a.png', contentType: 'image/png', data: Buffer.concat([PNG, Buffer.alloc(50_000)]) },
    });
    const body = new Readable({ read() {} });
    body.push(form.payload.subarray(0, 20_000));
    body.push(null);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/user/profile',
      headers: { ...bearer(token), ...form.headers },
      payload: body,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ success: false, message: 'Le corps multipart est incomplet ou mal formé.' });
    const profile = await app.inject({ method: 'GET', url: '/api/user/profile', headers: bearer(token) });
    expect(profile.json().user).toMatchObject({ name: 'Dr Test', avatar: null });
  });

  it('answers 404 for an avatar that does not exist and 422 for a malformed name', async () => {
    const { token } = await registerUser(app);
    expect(
      (await app.inject({ method: 'GET', url: '/api/user/avatar/1_1.png', headers: bearer(token) })).statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: '/api/user/avatar/..%2Fsecret.png', headers: bearer(token) })).statusCode,
    ).toBe(422);
  });
});

describe('DELETE /api/user/profile/avatar', () => {
  it('removes the avatar and its file', async () => {
    const { token } = await registerUser(app);
    const name = (await uploadAvatar(token, PNG)).json().user.avatar;
    const res = await app.inject({ method: 'DELETE', url: '/api/user/profile/avatar', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      message: 'Avatar supprimé avec succès',
      user: { avatar: null, avatar_url: null },
    });
    expect(existsSync(avatarFile(name))).toBe(false);
  });
});

describe('PUT /api/user/profile/email', () => {
  it('changes the address with the current password and marks it unverified', async () => {
    const { token } = await registerUser(app);
    const email = uniqueEmail('moved');
    const res = await app.inject({
      method: 'PUT',
      url: '/api/user/profile/email',
      headers: bearer(token),
      payload: { email, current_password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      message: 'Adresse email mise à jour avec succès',
      user: { email, email_verified_at: null },
    });
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
    expect(login.statusCode).toBe(200);
  });

  it('refuses a wrong current password and a taken address with 422', async () => {
    const { token } = await registerUser(app);
    const other = await registerUser(app);
    const wrong = await app.inject({
      method: 'PUT',
      url: '/api/user/profile/email',
      headers: bearer(token),
      payload: { email: uniqueEmail(), current_password: 'not my password' },
    });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().errors).toHaveProperty('current_password');
    const taken = await app.inject({
      method: 'PUT',
      url: '/api/user/profile/email',
      headers: bearer(token),
      payload: { email: other.email, current_password: PASSWORD },
    });
    expect(taken.statusCode).toBe(422);
    expect(taken.json().errors).toHaveProperty('email');
  });
});

describe('PUT /api/user/profile/password', () => {
  it('changes the password and revokes every other session', async () => {
    const { token, email } = await registerUser(app);
    const other = (
      await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } })
    ).json().token;
    const res = await app.inject({
      method: 'PUT',
      url: '/api/user/profile/password',
      headers: bearer(token),
      payload: {
        current_password: PASSWORD,
        password: 'new passphrase 42',
        password_confirmation: 'new passphrase 42',
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: 'Mot de passe mis à jour avec succès' });
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(other) })).statusCode).toBe(401);
    const relogin = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email, password: 'new passphrase 42' },
    });
    expect(relogin.statusCode).toBe(200);
  });

  it('refuses a wrong current password, a mismatched confirmation and a short password', async () => {
    const { token } = await registerUser(app);
    const attempt = (payload: Record<string, string>) =>
      app.inject({ method: 'PUT', url: '/api/user/profile/password', headers: bearer(token), payload });
    const wrong = await attempt({
      current_password: 'nope',
      password: 'long enough 1',
      password_confirmation: 'long enough 1',
    });
    expect(wrong.json().errors).toHaveProperty('current_password');
    const mismatch = await attempt({
      current_password: PASSWORD,
      password: 'long enough 1',
      password_confirmation: 'x',
    });
    expect(mismatch.json().errors).toHaveProperty('password');
    const short = await attempt({ current_password: PASSWORD, password: 'short', password_confirmation: 'short' });
    expect(short.statusCode).toBe(422);
    for (const res of [wrong, mismatch]) expect(res.statusCode).toBe(422);
  });
});

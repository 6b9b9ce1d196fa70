import { createHash, randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPLOAD_MAX_BYTES } from '../../domain/ptitspas/uploads/model.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type FilePart, multipart, PNG } from '../helpers/multipart.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { completeDossier, PDF, postUpload, uploaded } from '../helpers/ptitspas-files.js';

// /api/v1/uploads (ptitspas-evolutions.md, "Uploads"): the type read from the bytes, the limits,
// who sees and who deletes a file, and how its content is served (ETag, Range, 304).

const owner = await testDb();
let app: App;
let admin: PtitsPasAccount;
let parent: PtitsPasAccount;
let coParent: PtitsPasAccount;
let stranger: PtitsPasAccount;
let gestionnaire: PtitsPasAccount;
let childminder: PtitsPasAccount;
/** A child of `parent` (and so of `coParent`), without photo consent. */
let enfant: string;

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  // One after the other: password hashing admits only a few at once from one address.
  parent = await ptitspasAccount(app, admin, 'parent');
  coParent = await ptitspasAccount(app, admin, 'parent');
  stranger = await ptitspasAccount(app, admin, 'parent');
  gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
  childminder = await ptitspasAccount(app, admin, 'assistante_maternelle');
  const linked = await call('PATCH', `/parents/${parent.id}`, admin, { id_co_parent: coParent.id });
  expect(linked.statusCode, linked.body).toBe(200);
  enfant = await newChild(parent);
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const call = (
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  who: PtitsPasAccount,
  payload?: object,
) => app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });

async function newChild(who: PtitsPasAccount, prenom = 'Alice'): Promise<string> {
  const res = await call('POST', '/enfants', who, { prenom, nom: 'Dupont', genre: 'F', date_naissance: '2021-01-15' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** POST /uploads with a hand-made form. */
function sendForm(who: PtitsPasAccount, fields: Record<string, string | FilePart>) {
  const form = multipart(fields);
  return app.inject({
    method: 'POST',
    url: '/api/v1/uploads',
    headers: { ...who.headers, ...form.headers },
    payload: form.payload,
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** A PDF (for file-type) of `size` bytes, random after its header. */
const pdfOf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(size - 9)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), randomBytes(64)]);
const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([0x1a, 0, 0, 0]),
  Buffer.from('WEBPVP8 '),
  randomBytes(64),
]);
const GIF = Buffer.concat([Buffer.from('GIF89a'), randomBytes(64)]);

/** Every key in the app's storage (a local directory here), temporary writes included. */
async function storedKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of app.storage.list()) keys.push(object.key);
  return keys.sort();
}
const uploadCount = async () => Number((await owner.pool.query('select count(*) from ptitspas.uploads')).rows[0].count);
const uploadRow = async (id: string) =>
  (await owner.pool.query('select * from ptitspas.uploads where id = $1', [id])).rows[0] as
    | { cle: string; nom: string; id_enfant: string | null }
    | undefined;
async function storedBytes(key: string): Promise<Buffer | undefined> {
  const bytes = await app.storage.get(key);
  return bytes && buffer(bytes.stream);
}

/**
 * Runs `refused` (an upload the server must refuse) and checks it left nothing: no new row, no
 * new object in storage (nor a temporary one).
 */
async function leavesNothing(refused: () => Promise<void>) {
  const [keys, rows] = [await storedKeys(), await uploadCount()];
  await refused();
  expect(await storedKeys()).toEqual(keys);
  expect(await uploadCount()).toBe(rows);
}

const error = (statusCode: number, error: string, message: string) => ({ statusCode, error, message });
const NOT_FOUND = error(404, 'Not Found', 'Fichier non trouvé');

describe('POST /uploads', () => {
  it('stores the bytes and answers the upload, exactly its fields', async () => {
    const data = pdfOf(2000);
    const before = Date.now();
    const res = await postUpload(app, parent, { idEnfant: enfant, data, filename: 'carnet.pdf' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      nom: 'carnet.pdf',
      type_mime: 'application/pdf',
      taille: 2000,
      sha256: sha256(data),
      categorie: 'carnet_vaccination',
      id_enfant: enfant,
      id_auteur: parent.id,
      cree_le: expect.any(String),
    });
    expect(new Date(body.cree_le).getTime()).toBeGreaterThanOrEqual(before - 1000);
    // Where the bytes lie is in the row only, and they are the bytes sent.
    const row = await uploadRow(body.id);
    expect(row).toMatchObject({ nom: 'carnet.pdf', id_enfant: enfant, taille: 2000, sha256: sha256(data) });
    expect(row!.cle).toMatch(new RegExp(`^ptitspas/uploads/\\d{4}/\\d{2}/${body.id}$`));
    expect((await storedBytes(row!.cle))?.equals(data)).toBe(true);
  });

  it('keeps the file name without its path, in UTF-8', async () => {
    for (const [filename, nom] of [
      ['C:\\docs\\carnet.pdf', 'carnet.pdf'],
      ['a/b/carnet.pdf', 'carnet.pdf'],
      ['carnet été.pdf', 'carnet été.pdf'],
      ['../../../etc/passwd.pdf', 'passwd.pdf'],
    ]) {
      const res = await postUpload(app, parent, { filename });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().nom, filename).toBe(nom);
      expect((await uploadRow(res.json().id))?.nom).toBe(nom);
    }
  });

  it('reads the type from the content: PDF, PNG, JPEG, WebP, whatever the header says', async () => {
    for (const [data, contentType, type] of [
      [PNG, 'application/pdf', 'image/png'],
      [JPEG, 'application/octet-stream', 'image/jpeg'],
      [WEBP, 'image/png', 'image/webp'],
      [PDF, 'image/jpeg', 'application/pdf'],
    ] as const) {
      const res = await postUpload(app, parent, { data, contentType, filename: 'fichier.pdf', categorie: 'autre' });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ type_mime: type, taille: data.length, sha256: sha256(data) });
    }
  });

  it('refuses any other type with 415, leaving nothing behind', async () => {
    for (const data of [Buffer.from('Ceci est un texte, pas un PDF.\n'), GIF]) {
      await leavesNothing(async () => {
        const res = await postUpload(app, parent, { data, filename: 'x.pdf', contentType: 'application/pdf' });
        expect(res.statusCode, res.body).toBe(415);
        expect(res.json()).toEqual(
          error(415, 'Unsupported Media Type', 'Type de fichier non accepté : PDF, JPEG, PNG ou WebP uniquement'),
        );
      });
    }
  });

  it('accepts exactly 10 MiB and refuses one byte more with 413, storing nothing', async () => {
    const atLimit = await postUpload(app, parent, { data: pdfOf(UPLOAD_MAX_BYTES) });
    expect(atLimit.statusCode, atLimit.body).toBe(201);
    expect(atLimit.json().taille).toBe(10 * 1024 * 1024);

    for (const size of [UPLOAD_MAX_BYTES + 1, UPLOAD_MAX_BYTES + 512 * 1024]) {
      await leavesNothing(async () => {
        const res = await postUpload(app, parent, { data: pdfOf(size) });
        expect(res.statusCode, `${size} bytes`).toBe(413);
        expect(res.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
        expect(res.json().message).toMatch(/trop volumineux|taille maximale/);
      });
    }
  });

  it('refuses an empty file, a missing file part, a second file, an unknown categorie (400)', async () => {
    await leavesNothing(async () => {
      const empty = await postUpload(app, parent, { data: Buffer.alloc(0) });
      expect(empty.statusCode).toBe(400);
      expect(empty.json()).toEqual(error(400, 'Bad Request', 'Le fichier est vide'));

      const missing = await sendForm(parent, { categorie: 'autre' });
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual(error(400, 'Bad Request', 'Le champ fichier est obligatoire'));

      // A file in another field is refused; a second file trips the parser's limit of one (413).
      const file: FilePart = { filename: 'a.pdf', contentType: 'application/pdf', data: PDF };
      const elsewhere = await sendForm(parent, { categorie: 'autre', piece: file });
      expect(elsewhere.statusCode).toBe(400);
      expect(elsewhere.json()).toEqual(error(400, 'Bad Request', 'Un seul fichier, dans le champ « fichier ».'));
      const second = await sendForm(parent, { categorie: 'autre', fichier: file, autre: file });
      expect(second.statusCode).toBe(413);
      expect(second.json()).toEqual(error(413, 'Payload Too Large', 'Trop de fichiers dans la requête.'));

      const unknown = await postUpload(app, parent, { categorie: 'bulletin_de_notes' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toEqual(
        error(
          400,
          'Bad Request',
          'categorie doit valoir carnet_vaccination, attestation_assurance, decision_justice, ordonnance, photo, autre',
        ),
      );

      const badChild = await postUpload(app, parent, { idEnfant: 'pas-un-uuid' });
      expect(badChild.statusCode).toBe(400);
      expect(badChild.json()).toEqual(error(400, 'Bad Request', 'id_enfant doit être un UUID'));
    });
  });

  it('refuses a photo of a child without photo consent (400), accepts it once the parents consent', async () => {
    const child = await newChild(parent, 'Photo');
    await leavesNothing(async () => {
      const refused = await postUpload(app, parent, { idEnfant: child, categorie: 'photo', data: PNG });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual(
        error(400, 'Bad Request', "Pas de photo de cet enfant : ses parents n'y ont pas consenti"),
      );
    });
    const consent = await call('PATCH', `/enfants/${child}`, parent, { consentement_photo: true });
    expect(consent.statusCode, consent.body).toBe(200);
    const accepted = await postUpload(app, parent, { idEnfant: child, categorie: 'photo', data: PNG });
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect(accepted.json()).toMatchObject({ categorie: 'photo', type_mime: 'image/png', id_enfant: child });
  });

  it('answers 404 for a child the uploader does not see (a stranger, a childminder without contract)', async () => {
    for (const who of [stranger, childminder]) {
      await leavesNothing(async () => {
        const res = await postUpload(app, who, { idEnfant: enfant });
        expect(res.statusCode).toBe(404);
        expect(res.json()).toEqual(error(404, 'Not Found', 'Enfant non trouvé'));
      });
    }
    const unknown = await postUpload(app, parent, { idEnfant: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.statusCode).toBe(404);
  });

  it('lets a childminder upload her own files, but not a decision_justice (400)', async () => {
    const own = await postUpload(app, childminder, { categorie: 'attestation_assurance' });
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json()).toMatchObject({ id_enfant: null, id_auteur: childminder.id });
    expect((await call('GET', `/uploads/${own.json().id}`, childminder)).json()).toEqual(own.json());

    await leavesNothing(async () => {
      const court = await postUpload(app, childminder, { categorie: 'decision_justice' });
      expect(court.statusCode).toBe(400);
      expect(court.json()).toEqual(
        error(400, 'Bad Request', 'Une décision de justice est déposée par un parent ou le personnel'),
      );
    });
  });
});

describe('who sees an upload', () => {
  it('the uploader, the child’s parents and co-parent, staff; nobody else (404)', async () => {
    const ofChild = await uploaded(app, parent, { idEnfant: enfant });
    const unattached = await uploaded(app, parent, { categorie: 'autre' });
    const strangers = await uploaded(app, stranger, { categorie: 'autre' });
    const administrateur = await ptitspasAccount(app, admin, 'administrateur');
    const cases: Array<[PtitsPasAccount, string, boolean]> = [
      [parent, ofChild, true],
      [parent, unattached, true],
      [parent, strangers, false],
      [coParent, ofChild, true],
      [coParent, unattached, false],
      [stranger, ofChild, false],
      [stranger, unattached, false],
      [stranger, strangers, true],
      [childminder, ofChild, false],
      [childminder, unattached, false],
      // Staff see every upload, those without a child included.
      [gestionnaire, ofChild, true],
      [gestionnaire, strangers, true],
      [administrateur, unattached, true],
      [admin, strangers, true],
    ];
    for (const [who, id, sees] of cases) {
      for (const suffix of ['', '/contenu']) {
        const res = await call('GET', `/uploads/${id}${suffix}`, who);
        expect(res.statusCode, `${who.role} ${who.email} GET ${id}${suffix}`).toBe(sees ? 200 : 404);
        if (!sees) expect(res.json()).toEqual(NOT_FOUND);
        else if (suffix === '') expect(res.json()).toMatchObject({ id });
        else expect(res.rawPayload.equals(PDF)).toBe(true);
      }
    }
  });

  it('a decision_justice of a child: its parents and staff see it, a childminder does not', async () => {
    const court = await postUpload(app, gestionnaire, {
      idEnfant: enfant,
      categorie: 'decision_justice',
      filename: 'jugement.pdf',
    });
    expect(court.statusCode, court.body).toBe(201);
    const id = court.json().id as string;
    for (const who of [parent, coParent, gestionnaire, admin]) {
      const res = await call('GET', `/uploads/${id}`, who);
      expect(res.statusCode, who.role).toBe(200);
      expect(res.json()).toEqual(court.json());
    }
    for (const who of [childminder, stranger]) {
      const res = await call('GET', `/uploads/${id}/contenu`, who);
      expect(res.statusCode, who.role).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
    }
  });
});

describe('GET /uploads/:id/contenu', () => {
  const data = pdfOf(1000);
  let id: string;
  let url: string;
  beforeAll(async () => {
    id = await uploaded(app, parent, { idEnfant: enfant, data, filename: 'carnet été.pdf' });
    url = `/api/v1/uploads/${id}/contenu`;
  });
  const get = (headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { ...parent.headers, ...headers } });

  it('serves the bytes with the stored type, the name (RFC 6266), the sha256 ETag and nosniff', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(data)).toBe(true);
    expect(res.headers).toMatchObject({
      'content-type': 'application/pdf',
      'content-length': '1000',
      'content-disposition': `attachment; filename="carnet _t_.pdf"; filename*=UTF-8''carnet%20%C3%A9t%C3%A9.pdf`,
      etag: `"${sha256(data)}"`,
      'x-content-type-options': 'nosniff',
      'accept-ranges': 'bytes',
    });
    // The type answered is the stored one, not the one the client declared.
    const png = await uploaded(app, parent, { data: PNG, contentType: 'application/pdf', filename: 'x.pdf' });
    const image = await call('GET', `/uploads/${png}/contenu`, parent);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.rawPayload.equals(PNG)).toBe(true);
  });

  it('answers a range with 206, Content-Range and exactly those bytes', async () => {
    for (const [range, start, end] of [
      ['bytes=10-19', 10, 19],
      ['bytes=0-0', 0, 0],
      ['bytes=990-', 990, 999],
      ['bytes=-5', 995, 999],
      ['bytes=995-5000', 995, 999],
      ['bytes=-5000', 0, 999],
    ] as const) {
      const res = await get({ range });
      expect(res.statusCode, range).toBe(206);
      expect(res.headers['content-range'], range).toBe(`bytes ${start}-${end}/1000`);
      expect(res.headers['content-length'], range).toBe(String(end - start + 1));
      expect(res.rawPayload.equals(data.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers several ranges, or another unit, with the whole file (200), as RFC 9110 allows', async () => {
    for (const range of ['bytes=0-1,5-6', 'items=0-1']) {
      const res = await get({ range });
      expect(res.statusCode, range).toBe(200);
      expect(res.headers['content-range']).toBeUndefined();
      expect(res.rawPayload.equals(data)).toBe(true);
    }
  });

  it('answers 416 with Content-Range bytes */size for a range past the end', async () => {
    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const res = await get({ range });
      expect(res.statusCode, range).toBe(416);
      expect(res.headers['content-range']).toBe('bytes */1000');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      // An error, not the file: none of the file's headers.
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.headers.etag).toBeUndefined();
      expect(res.json()).toEqual(error(416, 'Range Not Satisfiable', 'Plage demandée non satisfaisable'));
    }
  });

  it('answers 304 to If-None-Match naming its ETag, 200 to another', async () => {
    const etag = `"${sha256(data)}"`;
    const cached = await get({ 'if-none-match': etag });
    expect(cached.statusCode).toBe(304);
    expect(cached.rawPayload.length).toBe(0);
    expect(cached.headers.etag).toBe(etag);
    expect((await get({ 'if-none-match': `"autre", ${etag}` })).statusCode).toBe(304);
    // If-None-Match compares weakly (RFC 9110 §13.1.2): the tag a compressing proxy weakened matches.
    expect((await get({ 'if-none-match': `W/${etag}` })).statusCode).toBe(304);
    expect((await get({ 'if-none-match': '*' })).statusCode).toBe(304);
    const stale = await get({ 'if-none-match': `"${sha256(PDF)}"` });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.equals(data)).toBe(true);
  });
});

describe('DELETE /uploads/:id', () => {
  it('by its author: 200, the row and the bytes are gone', async () => {
    const id = await uploaded(app, parent, { idEnfant: enfant });
    const { cle } = (await uploadRow(id))!;
    expect(await app.storage.exists(cle)).toBe(true);
    const res = await call('DELETE', `/uploads/${id}`, parent);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: 'Fichier supprimé' });
    expect(await uploadRow(id)).toBeUndefined();
    expect(await app.storage.exists(cle)).toBe(false);
    expect((await call('GET', `/uploads/${id}`, parent)).statusCode).toBe(404);
    expect((await call('DELETE', `/uploads/${id}`, parent)).json()).toEqual(NOT_FOUND);
  });

  it('by staff: 200, whoever the author', async () => {
    const id = await uploaded(app, parent, { idEnfant: enfant });
    const { cle } = (await uploadRow(id))!;
    const res = await call('DELETE', `/uploads/${id}`, gestionnaire);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: 'Fichier supprimé' });
    expect(await uploadRow(id)).toBeUndefined();
    expect(await app.storage.exists(cle)).toBe(false);
  });

  it('by a co-parent who sees it but did not upload it: 403; by a stranger: 404; it stays', async () => {
    const id = await uploaded(app, parent, { idEnfant: enfant });
    const { cle } = (await uploadRow(id))!;
    const coParents = await call('DELETE', `/uploads/${id}`, coParent);
    expect(coParents.statusCode).toBe(403);
    expect(coParents.json()).toEqual(
      error(403, 'Forbidden', "Seuls l'auteur du fichier et le personnel peuvent le supprimer"),
    );
    for (const who of [stranger, childminder]) {
      const res = await call('DELETE', `/uploads/${id}`, who);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
    }
    expect(await uploadRow(id)).toBeDefined();
    expect(await app.storage.exists(cle)).toBe(true);
  });

  it('while a dossier lists it: 409, even for staff, and the file stays', async () => {
    const child = await newChild(parent, 'Dossier');
    const id = await uploaded(app, parent, { idEnfant: child });
    const put = await call('PUT', `/dossiers/${child}`, parent, completeDossier([id]));
    expect(put.statusCode, put.body).toBe(200);
    const { cle } = (await uploadRow(id))!;
    for (const who of [parent, admin]) {
      const res = await call('DELETE', `/uploads/${id}`, who);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual(
        error(409, 'Conflict', 'Fichier utilisé par un dossier, un événement ou un message : retirez-le avant'),
      );
    }
    expect(await uploadRow(id)).toBeDefined();
    expect(await app.storage.exists(cle)).toBe(true);
    expect((await call('GET', `/dossiers/${child}`, parent)).json().pieces).toEqual([id]);

    // Once out of the dossier, it goes.
    expect((await call('PUT', `/dossiers/${child}`, parent, completeDossier([]))).statusCode).toBe(200);
    expect((await call('DELETE', `/uploads/${id}`, parent)).statusCode).toBe(200);
    expect(await app.storage.exists(cle)).toBe(false);
  });
});

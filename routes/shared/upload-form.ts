import type { FastifyRequest } from 'fastify';
import { Invalid } from '../../domain/errors.js';
import { recordOrRemove, type StoredFile, storeFile } from '../../domain/shared/stored-files.js';
import { HttpError } from '../../plugins/errors.js';

export interface UploadForm {
  /** The text fields, last value of each name. */
  fields: Map<string, string>;
  /** The file part, stored; undefined when the form had none. */
  file?: StoredFile & { filename: string };
}

interface UploadFormOptions {
  /** The one field that may carry a file. */
  fileField: string;
  maxBytes: number;
  /** Where the file goes in storage. */
  key: () => string;
}

/**
 * Reads a multipart/form-data upload (the route registers @fastify/multipart with its limits): the
 * file part is streamed into storage as it arrives, never held in memory, then `use` checks and
 * records it. A failure anywhere, a client hanging up mid-body included, leaves no object behind.
 */
export async function receiveUpload<T>(
  request: FastifyRequest,
  { fileField, maxBytes, key }: UploadFormOptions,
  use: (form: UploadForm) => Promise<T>,
): Promise<T> {
  if (!request.isMultipart()) throw new HttpError(415, "La requête n'est pas au format multipart/form-data.");
  const storage = request.server.storage;
  const fields = new Map<string, string>();
  let file: UploadForm['file'];
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields.set(part.fieldname, String(part.value));
        continue;
      }
      if (part.fieldname !== fileField || file) {
        part.file.resume();
        throw new Invalid(`Un seul fichier, dans le champ « ${fileField} ».`, {
          [fileField]: ['Un seul fichier attendu.'],
        });
      }
      // A part sent without a filename is a file whose name is undefined.
      file = { ...(await storeFile(storage, key(), part.file, maxBytes)), filename: part.filename ?? '' };
    }
  } catch (err) {
    if (file) await storage.remove(file.key);
    throw err;
  }
  return recordOrRemove(storage, file, () => use({ fields, file }));
}

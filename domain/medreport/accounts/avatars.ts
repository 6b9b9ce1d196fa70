import { fileTypeFromBuffer } from 'file-type';
import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../../../db/schema.js';
import { Invalid, NotFound } from '../../errors.js';

const AVATAR_TYPES: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };
export const AVATAR_CONTENT_TYPES = Object.keys(AVATAR_TYPES);
const CONTENT_TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** The extension an avatar is stored with, from its bytes; invalid unless JPEG, PNG or WebP. */
export async function avatarExtension(bytes: Buffer): Promise<string> {
  const detected = await fileTypeFromBuffer(bytes);
  const ext = detected && AVATAR_TYPES[detected.mime];
  if (!ext) {
    const message = "L'avatar doit être une image JPEG, PNG ou WebP.";
    throw new Invalid(message, { avatar: [message] });
  }
  return ext;
}

/** The content type of a stored avatar, from its name (names are checked by the route's pattern). */
export function avatarContentType(name: string): string {
  return CONTENT_TYPES[name.split('.').pop()!]!;
}

/**
 * Not found unless the avatar `name` is the viewer's own or a member's of their organization:
 * someone else's avatar answers exactly like a name that does not exist.
 */
export async function assertAvatarVisible(
  db: Kysely<Database>,
  name: string,
  viewer: Pick<UserRow, 'id' | 'organization_id'>,
): Promise<void> {
  const owner = await db
    .selectFrom('medreport.users')
    .select(['id', 'organization_id'])
    .where('avatar', '=', name)
    .executeTakeFirst();
  const visible =
    owner &&
    (owner.id === viewer.id || (owner.organization_id !== null && owner.organization_id === viewer.organization_id));
  if (!visible) throw new NotFound('Avatar introuvable.');
}

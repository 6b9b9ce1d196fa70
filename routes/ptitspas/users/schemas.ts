import { Type } from '@sinclair/typebox';
import { Role, Uuid } from '../../../domain/ptitspas/accounts/model.js';
import {
  NewGestionnaire,
  NewStaffUser,
  UserChanges,
  UserDetail,
  UserListQuery,
  UserSummary,
} from '../../../domain/ptitspas/users/model.js';

export { UserDetail, UserSummary };

export const UserIdParams = Type.Object({ id: Uuid });
export const CreatedUser = Type.Object({ id: Uuid, email: Type.String(), role: Role }, { $id: 'PtitsPasCreatedUser' });
export const Message = Type.Object({ message: Type.String() }, { $id: 'PtitsPasMessage' });
/** A registration, a validation or a suspension: what happened, and to which account. */
export const AccountMessage = Type.Object({ message: Type.String(), userId: Uuid }, { $id: 'PtitsPasAccountMessage' });

export const CreateUserBody = NewStaffUser;
export const CreateGestionnaireBody = NewGestionnaire;
export const UpdateUserBody = UserChanges;
export const ListQuery = UserListQuery;

export const StatusBody = Type.Object({
  comment: Type.Optional(Type.String({ maxLength: 1000 })),
});

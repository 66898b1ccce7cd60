import { AuthInitial1764000000000 } from './1764000000000-auth-initial';

/** Every migration of the auth schema, in order. */
export const authMigrations = [AuthInitial1764000000000];

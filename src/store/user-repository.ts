import { NotFoundError } from '../errors.ts';
import type { Db } from './client.ts';
import { isUniqueViolation } from './driver-errors.ts';
import { toUser } from './mappers.ts';
import type { Platform, User } from './types.ts';

export interface UserIdentity {
  platform: Platform;
  externalId: string;
  displayName?: string | null;
}

export class UserRepository {
  constructor(private readonly db: Db) {}

  /** The user with this platform id, created on first sight; a changed display name is kept up to date. */
  async getOrCreate(identity: UserIdentity): Promise<User> {
    const where = { platform_externalId: { platform: identity.platform, externalId: identity.externalId } };
    const update = identity.displayName === undefined ? {} : { displayName: identity.displayName };
    try {
      return toUser(await this.db.user.upsert({ where, create: { ...identity }, update }));
    } catch (error) {
      // Two first messages of the same user at once: the loser of the insert race reads the winner's row.
      if (isUniqueViolation(error)) return toUser(await this.db.user.update({ where, data: update }));
      throw error;
    }
  }

  /** The user with this platform id, if there is one; creates nothing. */
  async findByIdentity(platform: Platform, externalId: string): Promise<User | null> {
    const row = await this.db.user.findUnique({ where: { platform_externalId: { platform, externalId } } });
    return row === null ? null : toUser(row);
  }

  async find(id: string): Promise<User | null> {
    const row = await this.db.user.findUnique({ where: { id } });
    return row === null ? null : toUser(row);
  }

  async get(id: string): Promise<User> {
    const user = await this.find(id);
    if (user === null) throw new NotFoundError(`User ${id}`);
    return user;
  }
}

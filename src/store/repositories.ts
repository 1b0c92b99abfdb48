import type { Db } from './client.ts';
import { ConversationRepository } from './conversation-repository.ts';
import { JobRepository } from './job-repository.ts';
import { MediaRepository } from './media-repository.ts';
import { TurnRepository } from './turn-repository.ts';
import { UserRepository } from './user-repository.ts';

export interface Repositories {
  users: UserRepository;
  conversations: ConversationRepository;
  turns: TurnRepository;
  media: MediaRepository;
  jobs: JobRepository;
}

/** All repositories over one client; pass a transaction client to make them share that transaction. */
export function createRepositories(db: Db, now?: () => Date): Repositories {
  return {
    users: new UserRepository(db),
    conversations: new ConversationRepository(db),
    turns: new TurnRepository(db),
    media: new MediaRepository(db),
    jobs: new JobRepository(db, now),
  };
}

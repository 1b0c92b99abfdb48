/**
 * `npx tsx test/fakes/discord/serve.ts`: the fake Discord on its own, to try `npm start` against it
 * (DISCORD_TOKEN=fake-bot-token DISCORD_API_URL=<printed url>) without internet.
 */
import { FakeDiscord } from './fake-discord.ts';

const fake = await new FakeDiscord().start();
process.stdout.write(`${JSON.stringify({ apiUrl: fake.apiUrl, token: fake.token, guildId: fake.guildId, channelId: fake.channelId })}\n`);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

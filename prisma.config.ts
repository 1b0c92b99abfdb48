import path from 'node:path';
import { defineConfig, type PrismaConfig } from 'prisma/config';

type AdapterFactory = Awaited<ReturnType<Extract<PrismaConfig, { engine: 'js' }>['adapter']>>;

/**
 * Prisma CLI configuration. The JS engine (driver adapters) avoids the native engines, which cannot be
 * downloaded here. The CLI only needs an adapter for commands that touch a database (`migrate diff`
 * against the schema does not); we still give it the same two backends as the app. DATABASE_URL must be
 * exported (any value) for every CLI command, or the CLI tries to download an engine.
 */
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  async adapter(): Promise<AdapterFactory> {
    const url = process.env.DATABASE_URL;
    if (url !== undefined && /^postgres(ql)?:\/\//.test(url) && process.env.PGLITE_DIR === undefined) {
      const { PrismaPg } = await import('@prisma/adapter-pg');
      return new PrismaPg({ connectionString: url });
    }
    const { PGlite } = await import('@electric-sql/pglite');
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    // Its nested @prisma/driver-adapter-utils 6.10 types differ from 6.19's in name only.
    return new PrismaPGlite(new PGlite(process.env.PGLITE_DIR ?? 'memory://')) as unknown as AdapterFactory;
  },
});

/**
 * Writes the next migration: `npm run db:migration -- <name>`.
 *
 * Each migration folder keeps a copy of the datamodel it brings the database to (schema.prisma next to
 * migration.sql). The next migration is the diff from the newest copy to prisma/schema.prisma. We diff
 * two datamodels because both ways that need a database are broken with driver adapters here:
 * `--from-migrations` fails on a PGlite shadow database (multi-statement SQL) and on adapter-pg
 * ("Column type 'name' could not be deserialized").
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const prismaDir = path.dirname(fileURLToPath(import.meta.url));
const migrationsDir = path.join(prismaDir, 'migrations');
const schemaPath = path.join(prismaDir, 'schema.prisma');

function main(): void {
  const name = process.argv
    .slice(2)
    .join(' ')
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  if (name === '') {
    console.error('usage: npm run db:migration -- <name>   (e.g. add_job_priority)');
    process.exit(2);
  }
  const existing = readdirSync(migrationsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d{4}_/.test(e.name))
    .map((e) => e.name)
    .sort();
  const last = existing.at(-1);
  const from = last === undefined ? ['--from-empty'] : ['--from-schema-datamodel', snapshotOf(last)];
  const sql = execFileSync('npx', ['prisma', 'migrate', 'diff', ...from, '--to-schema-datamodel', schemaPath, '--script'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    // An exported DATABASE_URL (any value) keeps the CLI from downloading engines; PGLITE_DIR makes
    // prisma.config.ts hand it an in-memory PGlite, so no server is needed (adapter-pg would connect).
    env: { ...process.env, DATABASE_URL: 'postgresql://localhost/unused', PGLITE_DIR: 'memory://' },
  });
  if (isEmpty(sql)) {
    console.log('prisma/schema.prisma has no changes since the last migration; nothing written.');
    return;
  }
  const next = String(existing.length === 0 ? 1 : Number(last!.slice(0, 4)) + 1).padStart(4, '0');
  const dir = path.join(migrationsDir, `${next}_${name}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'migration.sql'), sql);
  copyFileSync(schemaPath, path.join(dir, 'schema.prisma'));
  console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql; review it, then commit it with the schema.`);
}

function snapshotOf(migration: string): string {
  const file = path.join(migrationsDir, migration, 'schema.prisma');
  if (!existsSync(file)) throw new Error(`${file} is missing: every migration keeps the datamodel it produced.`);
  return file;
}

function isEmpty(sql: string): boolean {
  return sql.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('--'));
}

main();

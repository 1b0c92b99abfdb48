-- AlterEnum
ALTER TYPE "MediaRole" ADD VALUE 'grid';

-- AlterTable
ALTER TABLE "media" ADD COLUMN     "generation" JSONB,
ADD COLUMN     "safety" JSONB;


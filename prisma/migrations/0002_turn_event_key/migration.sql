-- AlterTable
ALTER TABLE "turns" ADD COLUMN     "event_key" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "turns_conversation_id_event_key_key" ON "turns"("conversation_id", "event_key");


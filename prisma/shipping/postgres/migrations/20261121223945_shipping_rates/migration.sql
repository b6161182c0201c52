-- AlterTable
ALTER TABLE "Shipment" ADD COLUMN     "rateCents" INTEGER,
ADD COLUMN     "rateNote" TEXT,
ADD COLUMN     "rateQuoteId" TEXT,
ADD COLUMN     "rateSource" TEXT;

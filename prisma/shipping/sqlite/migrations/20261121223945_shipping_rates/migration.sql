-- AlterTable
ALTER TABLE "Shipment" ADD COLUMN "rateCents" INTEGER;
ALTER TABLE "Shipment" ADD COLUMN "rateNote" TEXT;
ALTER TABLE "Shipment" ADD COLUMN "rateQuoteId" TEXT;
ALTER TABLE "Shipment" ADD COLUMN "rateSource" TEXT;

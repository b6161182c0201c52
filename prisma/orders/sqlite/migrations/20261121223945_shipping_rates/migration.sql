-- AlterTable
ALTER TABLE "Order" ADD COLUMN "shippingCents" INTEGER;
ALTER TABLE "Order" ADD COLUMN "shippingRateSource" TEXT;

-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "shippingCents" INTEGER,
ADD COLUMN     "shippingRateSource" TEXT;

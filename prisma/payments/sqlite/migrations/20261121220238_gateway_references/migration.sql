-- AlterTable
ALTER TABLE "Payment" ADD COLUMN "gatewayChargeId" TEXT;
ALTER TABLE "Payment" ADD COLUMN "gatewayRefundId" TEXT;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "gatewayChargeId" TEXT,
ADD COLUMN     "gatewayRefundId" TEXT;

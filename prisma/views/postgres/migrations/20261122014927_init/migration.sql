-- CreateTable
CREATE TABLE "OrderEvent" (
    "eventId" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "aggregateType" TEXT NOT NULL,
    "aggregateId" TEXT NOT NULL,
    "aggregateVersion" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "schemaVersion" INTEGER NOT NULL,
    "payload" TEXT NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "appliedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OrderEvent_pkey" PRIMARY KEY ("eventId")
);

-- CreateTable
CREATE TABLE "OrderView" (
    "orderId" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "customerId" TEXT,
    "currency" TEXT,
    "items" TEXT NOT NULL,
    "itemCount" INTEGER NOT NULL,
    "totalCents" INTEGER,
    "reservationId" TEXT,
    "reservationStatus" TEXT,
    "paymentId" TEXT,
    "paymentStatus" TEXT,
    "paymentAmountCents" INTEGER,
    "declineReason" TEXT,
    "shipmentId" TEXT,
    "shipmentStatus" TEXT,
    "carrier" TEXT,
    "trackingNumber" TEXT,
    "shippingCents" INTEGER,
    "shippingRateSource" TEXT,
    "stockReleased" BOOLEAN NOT NULL,
    "paymentRefunded" BOOLEAN NOT NULL,
    "shipmentCancelled" BOOLEAN NOT NULL,
    "cancelReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastEventId" TEXT NOT NULL,
    "lastEventType" TEXT NOT NULL,
    "lastAggregateVersion" INTEGER NOT NULL,
    "eventCount" INTEGER NOT NULL,

    CONSTRAINT "OrderView_pkey" PRIMARY KEY ("orderId")
);

-- CreateIndex
CREATE INDEX "OrderEvent_orderId_occurredAt_idx" ON "OrderEvent"("orderId", "occurredAt");

-- CreateIndex
CREATE INDEX "OrderEvent_occurredAt_idx" ON "OrderEvent"("occurredAt");

-- CreateIndex
CREATE UNIQUE INDEX "OrderEvent_aggregateType_aggregateId_aggregateVersion_key" ON "OrderEvent"("aggregateType", "aggregateId", "aggregateVersion");

-- CreateIndex
CREATE INDEX "OrderView_createdAt_orderId_idx" ON "OrderView"("createdAt", "orderId");

-- CreateIndex
CREATE INDEX "OrderView_status_createdAt_orderId_idx" ON "OrderView"("status", "createdAt", "orderId");

-- CreateIndex
CREATE INDEX "OrderView_customerId_createdAt_orderId_idx" ON "OrderView"("customerId", "createdAt", "orderId");

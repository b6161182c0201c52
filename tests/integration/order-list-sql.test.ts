import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, trace, type Tracer } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { applyMigrations, createViewsDb, type ViewsDb } from '../../src/db';
import { provisionDatabases, type ProvisionedDatabases } from '../../tooling/db/provision';
import { listOrders, orderViewStatuses, type ListOrdersQuery, type OrderPage } from '../../src/read-model';
import { createServiceTracing } from '../../src/telemetry/tracing';

/**
 * The order list reads through prepared SQL on the driver (src/db/sql-reader.ts), not through Prisma: its pages
 * must be exactly what Prisma's findMany gave, whatever the process's time zone, and no Prisma query may run.
 *
 *   node --import tsx --test tests/order-list-sql.test.ts
 */

type OrderViewRow = Parameters<ViewsDb['orderView']['create']>[0]['data'];

const epoch = Date.parse('2026-03-29T00:30:00.000Z');

/** Rows with every nullable column both null and set, booleans both ways, and runs of equal createdAt (ties). */
function rows(count: number): OrderViewRow[] {
  return Array.from({ length: count }, (_, index) => {
    const set = index % 3 !== 0;
    return {
      orderId: `ord_${String(index).padStart(6, '0')}`,
      workflowId: `order-${index}`,
      status: orderViewStatuses[index % orderViewStatuses.length] ?? 'pending',
      customerId: index % 7 === 0 ? null : `cus_${index % 5}`,
      currency: set ? 'EUR' : null,
      items: JSON.stringify([{ sku: 'SKU-MUG', quantity: 1 + (index % 4), unitPriceCents: set ? 1250 : null }]),
      itemCount: 1 + (index % 4),
      totalCents: set ? 1250 * (1 + (index % 4)) : null,
      reservationId: set ? `res_${index}` : null,
      reservationStatus: set ? 'committed' : null,
      paymentId: set ? `pay_${index}` : null,
      paymentStatus: set ? 'charged' : null,
      paymentAmountCents: set ? 1250 : null,
      declineReason: index % 11 === 0 ? 'card_declined' : null,
      shipmentId: set ? `shp_${index}` : null,
      shipmentStatus: set ? 'created' : null,
      carrier: set ? 'parcelwise' : null,
      trackingNumber: set ? `PW${index}` : null,
      shippingCents: set ? 495 : null,
      shippingRateSource: set ? 'carrier-quote' : null,
      stockReleased: index % 2 === 0,
      paymentRefunded: index % 4 === 1,
      shipmentCancelled: index % 5 === 2,
      cancelReason: index % 11 === 0 ? 'Payment declined: card_declined' : null,
      // Three orders per instant (ties broken by orderId), over a daylight-saving change of several zones.
      createdAt: new Date(epoch + Math.floor(index / 3) * 60_017),
      updatedAt: new Date(epoch + Math.floor(index / 3) * 60_017 + (index % 1000) + 1),
      lastEventId: `01J${String(index).padStart(23, '0')}`,
      lastEventType: 'OrderConfirmed',
      lastAggregateVersion: 1 + (index % 3),
      eventCount: 1 + (index % 7),
    };
  });
}

/** The list as it was answered through Prisma (findMany over the same keyset), the reference to match. */
async function prismaPage(db: ViewsDb, query: ListOrdersQuery, after?: { createdAt: Date; orderId: string }) {
  const direction = query.sort === 'createdAt:asc' ? 'asc' : 'desc';
  const beyond = direction === 'asc' ? 'gt' : 'lt';
  const found = await db.orderView.findMany({
    where: {
      status: query.status,
      customerId: query.customerId,
      createdAt: { gte: query.createdFrom, lt: query.createdTo },
      ...(after && {
        OR: [
          { createdAt: { [beyond]: after.createdAt } },
          { createdAt: after.createdAt, orderId: { [beyond]: after.orderId } },
        ],
      }),
    },
    orderBy: [{ createdAt: direction }, { orderId: direction }],
    take: (query.limit ?? 20) + 1,
  });
  return found.map((row) => ({
    ...row,
    items: JSON.parse(row.items) as unknown,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }));
}

/** Every page of the list, following nextCursor to the end. */
async function allPages(db: ViewsDb, query: ListOrdersQuery): Promise<OrderPage[]> {
  const pages: OrderPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await listOrders(db, { ...query, cursor });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 1000);
  return pages;
}

const queries: ListOrdersQuery[] = [
  {},
  { limit: 7 },
  { sort: 'createdAt:asc', limit: 13 },
  { status: 'confirmed', limit: 5 },
  { customerId: 'cus_3', sort: 'createdAt:asc', limit: 4 },
  { status: 'cancelled', customerId: 'cus_1', limit: 3 },
  {
    createdFrom: new Date(epoch + 20 * 60_017),
    createdTo: new Date(epoch + 40 * 60_017),
    limit: 6,
  },
  { createdFrom: new Date(epoch + 10 * 60_017 + 1), sort: 'createdAt:asc', status: 'pending', limit: 100 },
  { customerId: 'cus_nobody' },
];

for (const provider of ['sqlite', 'postgres'] as const) {
  const skip =
    provider === 'postgres' && !process.env.TEST_POSTGRES_URL
      ? 'TEST_POSTGRES_URL is not set (.ci/run sets it)'
      : false;

  describe(`order list through prepared SQL on ${provider}`, { skip }, () => {
    const exporter = new InMemorySpanExporter();
    let databases: ProvisionedDatabases;
    let views: ViewsDb;
    let tracer: Tracer;
    const zone = process.env.TZ;

    before(async () => {
      databases = await provisionDatabases(provider);
      await applyMigrations('views', databases.urls.views);
      tracer = createServiceTracing('api', new SimpleSpanProcessor(exporter)).tracer;
      views = createViewsDb(databases.urls.views, { tracer });
      await views.orderView.createMany({ data: rows(240) });
      // A zone far from UTC, with daylight saving: a driver that reads times as local time would shift them.
      process.env.TZ = 'America/Santiago';
    });

    after(async () => {
      process.env.TZ = zone;
      await views?.$disconnect();
      await databases?.drop();
    });

    test('every page, cursor and row is what Prisma answered, to the byte', async () => {
      for (const query of queries) {
        const pages = await allPages(views, query);
        let after: { createdAt: Date; orderId: string } | undefined;
        for (const page of pages) {
          const expected = await prismaPage(views, query, after);
          const limit = query.limit ?? 20;
          assert.equal(JSON.stringify(page.orders), JSON.stringify(expected.slice(0, limit)), JSON.stringify(query));
          assert.equal(page.nextCursor !== null, expected.length > limit, JSON.stringify(query));
          const last = expected[Math.min(limit, expected.length) - 1];
          after = last && { createdAt: new Date(last.createdAt), orderId: last.orderId };
        }
        const listed = pages.flatMap((page) => page.orders.map((order) => order.orderId));
        assert.equal(new Set(listed).size, listed.length, `no order twice: ${JSON.stringify(query)}`);
      }
    });

    test('a page is one prepared SELECT, no Prisma query', async () => {
      exporter.reset();
      await context.with(trace.setSpan(context.active(), tracer.startSpan('request')), () =>
        listOrders(views, { status: 'confirmed', limit: 5 }),
      );
      const names = exporter.getFinishedSpans().map((span) => span.name);
      assert.deepEqual(names, ['sql OrderView.list.desc.status']);
    });
  });
}

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyMigrations, createServiceDb, type OrdersDb } from '../../src/db';
import { provisionDatabases } from '../../tooling/db/provision';
import { appendEvent } from '../../src/events';
import { projectRoot } from '../../src/project-root';
import { runScript, type ScriptRun } from '../support/run-script';

/**
 * `npm run outbox`, the operator's view of the dead letters, run as a person
 * runs it against a real orders database: a parked event is listed with its
 * error, re-driven back to pending once, and a second re-drive says it is not
 * parked any more.
 */

const script = path.join(projectRoot, 'scripts', 'outbox.ts');

function outbox(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return runScript(script, args, { env });
}

describe('npm run outbox: parked events listed and re-driven', () => {
  let databases: Awaited<ReturnType<typeof provisionDatabases>>;
  let orders: OrdersDb;
  let env: Record<string, string>;
  let parkedId = '';

  before(async () => {
    databases = await provisionDatabases('sqlite');
    await applyMigrations('orders', databases.urls.orders);
    orders = createServiceDb('orders', databases.urls.orders);
    env = { ORDERS_DATABASE_URL: databases.urls.orders };
    const event = await orders.$transaction((tx) =>
      appendEvent(tx, {
        type: 'OrderCancelled',
        aggregateId: 'ord_000000000000000000000001',
        correlation: { orderId: 'ord_000000000000000000000001', workflowId: 'order-ord_000000000000000000000001' },
        payload: { reason: 'Customer changed their mind' },
      }),
    );
    parkedId = event.id;
    // What the relay does after its last attempt (tests/integration/outbox-relay.test.ts shows it doing so).
    await orders.outboxEvent.update({
      where: { eventId: parkedId },
      data: { status: 'PARKED', attempts: 10, lastError: 'views database unreachable' },
    });
  });

  after(async () => {
    await orders?.$disconnect();
    await databases?.drop();
  });

  test('status counts it, parked lists it with its error, redrive puts it back once', async () => {
    const status = await outbox(['status', '--service', 'orders'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^orders\s+0\s+0\s+1\b/m, status.stdout);

    const parked = await outbox(['parked', '--service', 'orders'], env);
    assert.equal(parked.code, 0, parked.stderr);
    assert.match(parked.stdout, new RegExp(`${parkedId}\\s+OrderCancelled\\b.*views database unreachable`));

    const redriven = await outbox(['redrive', parkedId, '--service', 'orders'], env);
    assert.equal(redriven.code, 0, redriven.stderr);
    const row = await orders.outboxEvent.findUniqueOrThrow({ where: { eventId: parkedId } });
    assert.equal(row.status, 'PENDING');
    assert.equal(row.attempts, 0);

    const again = await outbox(['redrive', parkedId, '--service', 'orders'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not a parked event/);
  });

  test('a mistake in the command is exit 2 with the usage, no stack trace', async () => {
    const wrong = await outbox(['purge'], env);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^Unknown command purge/);
    assert.doesNotMatch(wrong.stderr, /\n\s+at /);
  });
});

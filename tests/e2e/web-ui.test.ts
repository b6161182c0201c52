import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { InventoryActivities } from '../../src/activities/inventory';
import type { OrdersActivities } from '../../src/activities/orders';
import type { PaymentsActivities } from '../../src/activities/payments';
import { idempotencyKeyHeader } from '../../src/api/schemas';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import { orderWorkflowId } from '../../src/temporal/names';
import { orderIdAttribute } from '../../src/temporal/search-attributes';
import { finalStatuses, type OrderSagaState } from '../../src/workflows/definitions';
import { clearScreenshots, launchChromium, newLoopbackContext, saveScreenshot } from '../support/browser';
import { startStack, type Stack } from '../support/stack';

/**
 * The README's promise "watch the run in the Web UI", kept by a real browser:
 * an order placed over HTTP is found in the dev server's Web UI by its search
 * attribute, and its run shows the saga's steps, the failed one, and the
 * compensations that followed. Screenshots land in artifacts/web-ui/.
 */

/** Activity types as the Web UI names them: the activities' own names, so a rename breaks the type-check here. */
type SagaActivity = keyof OrdersActivities | keyof InventoryActivities | keyof PaymentsActivities;

// A declined card stops the saga after two completed steps, so both of their compensations run, newest first.
const expectedActivities: SagaActivity[] = [
  'createOrder',
  'reserveStock',
  'chargePayment',
  'releaseStock',
  'cancelOrder',
];
const compensationActivities: SagaActivity[] = ['releaseStock', 'cancelOrder'];
/**
 * The orders service's steps run as local activities in the orders worker that runs the workflow: the history records
 * each as a marker, which the Web UI shows as a "Local Activity" with its type, summary and result. The others are
 * activity tasks on their services' queues: "Activity", and Activity Task events.
 */
const localActivities: SagaActivity[] = ['createOrder', 'cancelOrder'];
/** What each local activity returned here, as the Web UI shows it decrypted. */
const localResults = (orderId: string): Partial<Record<SagaActivity, RegExp>> => ({
  createOrder: new RegExp(`"orderId": "${orderId}"`),
  cancelOrder: /"cancelled": true/,
});

// Temporal's visibility store is eventually consistent: a run may reach the list a moment after it closed.
const listAttempts = 6;
const listLoadTimeoutMs = 15_000;
const listRetryDelayMs = 1_000;
const orderDeadlineMs = 30_000;

const declinedOrder = {
  customerId: 'cus_web_ui',
  items: [{ sku: 'SKU-MUG', quantity: 2 }],
  payment: { token: paymentTokens.declined },
  shippingAddress: {
    recipient: 'Ada Lovelace',
    line1: '12 Analytical Row',
    city: 'London',
    postalCode: 'N1 9GU',
    country: 'GB',
  },
};

async function placeOrder(stack: Stack, body: unknown): Promise<{ orderId: string; workflowId: string }> {
  const response = await fetch(`${stack.baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [idempotencyKeyHeader]: randomUUID(), prefer: 'respond-async' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return (await response.json()) as { orderId: string; workflowId: string };
}

async function waitForFinalState(stack: Stack, orderId: string): Promise<OrderSagaState> {
  const deadline = Date.now() + orderDeadlineMs;
  for (;;) {
    const response = await fetch(`${stack.baseUrl}/orders/${orderId}`);
    assert.equal(response.status, 200);
    const state = (await response.json()) as OrderSagaState;
    if (finalStatuses.includes(state.status)) return state;
    if (Date.now() > deadline) assert.fail(`order ${orderId} was still ${state.status} after ${orderDeadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Opens the workflow list filtered by a visibility query, reloading until the run is listed. */
async function openListUntilShown(page: Page, listUrl: string, workflowId: string): Promise<void> {
  const runLink = page.getByRole('link', { name: workflowId, exact: true });
  // The list is loaded once it shows the run or says it found none; either way the wait is bounded.
  const listLoaded = runLink.or(page.getByText('No Results', { exact: true }));
  for (let attempt = 1; attempt <= listAttempts; attempt++) {
    await page.goto(listUrl);
    await listLoaded
      .first()
      .waitFor({ timeout: listLoadTimeoutMs })
      .catch(() => undefined);
    if (await runLink.isVisible()) return;
    await new Promise((resolve) => setTimeout(resolve, listRetryDelayMs));
  }
  throw new Error(`${workflowId} was not listed at ${listUrl} after ${listAttempts} attempts`);
}

interface ActivityRow {
  firstEventId: number;
  activityType: string;
  /** The row's event type: "Activity" for an activity task, "Local Activity" for a local activity's marker. */
  kind: string;
  text: string;
}

/** The Compact history's rows, oldest first: one per activity, with its kind, its type and its summary. */
async function activityRows(page: Page): Promise<ActivityRow[]> {
  const texts = await page.getByRole('row').filter({ hasText: 'Activity Type' }).allInnerTexts();
  return texts
    .map((text) => ({
      firstEventId: Number(/^\s*(\d+)/.exec(text)?.[1]),
      activityType: /Activity Type\s+(\w+)/.exec(text)?.[1] ?? '',
      kind: /^\s*(Local Activity|Activity)\s*$/m.exec(text)?.[1] ?? '',
      text,
    }))
    .sort((a, b) => a.firstEventId - b.firstEventId);
}

test(
  'Web UI: a declined order is found by its OrderId and its run shows the steps and the compensations',
  { timeout: 300_000 },
  async (t) => {
    // The browser before the stack: without one the test fails at once, saying how to install it.
    const browser = await launchChromium();
    t.after(() => browser.close());
    const stack = await startStack('sqlite', { webUi: true });
    t.after(() => stack.stop());

    const { orderId, workflowId } = await placeOrder(stack, declinedOrder);
    assert.equal(workflowId, orderWorkflowId(orderId));
    const state = await waitForFinalState(stack, orderId);
    assert.equal(state.status, 'failed');
    assert.equal(state.failure?.type, rejectionTypes.paymentDeclined);
    assert.deepEqual(
      state.compensations.map(({ compensation, status }) => [compensation, status]),
      [
        ['release-stock', 'completed'],
        ['cancel-order', 'completed'],
      ],
    );
    const { runId } = await stack.temporal.client.workflow.getHandle(workflowId).describe();

    clearScreenshots();
    const context = await newLoopbackContext(browser);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const screenshots: string[] = [];
    try {
      const namespace = stack.temporal.namespace ?? 'default';
      const query = `${orderIdAttribute.name}="${orderId}"`;
      const listUrl = `${stack.webUiUrl}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`;
      await openListUntilShown(page, listUrl, workflowId);
      screenshots.push(await saveScreenshot(page, 'order-list'));

      await page.getByRole('link', { name: workflowId, exact: true }).click();
      await page.waitForURL(`**/namespaces/${namespace}/workflows/${workflowId}/${runId}/**`);
      const main = page.getByRole('main');
      await main.getByRole('heading', { level: 1, name: workflowId }).waitFor();
      await main.getByText('Failed', { exact: true }).first().waitFor();
      // The run's input is stored encrypted; the Web UI shows it through the stack's codec server.
      await main.getByText(declinedOrder.shippingAddress.line1).first().waitFor();
      for (const activity of expectedActivities) {
        // The history's timeline draws one bar per activity, labelled with its type and its (decrypted) summary; a local
        // activity is a point labelled with its type.
        await main
          .getByRole('button', { name: new RegExp(`^${activity}( •|$)`) })
          .first()
          .waitFor();
      }
      screenshots.push(await saveScreenshot(page, 'order-run'));

      await main.getByRole('button', { name: 'Compact', exact: true }).click();
      await main
        .getByRole('row')
        .filter({ hasText: expectedActivities.at(-1)! })
        .waitFor();
      const rows = await activityRows(page);
      assert.deepEqual(
        rows.map((row) => row.activityType).filter((type) => expectedActivities.includes(type as SagaActivity)),
        expectedActivities,
        'the Compact history lists the steps, then the compensations in reverse',
      );
      const rowOf = (activity: SagaActivity) => rows.find((row) => row.activityType === activity)!;
      for (const activity of expectedActivities) {
        const kind = localActivities.includes(activity) ? 'Local Activity' : 'Activity';
        assert.equal(rowOf(activity).kind, kind, `${activity} is shown as ${kind}:\n${rowOf(activity).text}`);
      }
      assert.match(rowOf('createOrder').text, new RegExp(`Summary\\s+Create order ${orderId}`));
      // A row shows the activity's summary (stored encrypted like every payload, shown decrypted), not its outcome.
      assert.match(rowOf('chargePayment').text, /Summary\s+Charge \$24\.00/);
      for (const compensation of compensationActivities) {
        assert.doesNotMatch(rowOf(compensation).text, /Failure/, `${compensation} did not fail`);
      }
      screenshots.push(await saveScreenshot(page, 'order-run-compact'));

      // The full history: the charge's failure, and each completed activity's result decrypted (JSON, not a blob).
      await main.getByRole('button', { name: 'All', exact: true }).click();
      const failedCharge = main.getByRole('row').filter({ hasText: 'Activity Task Failed' });
      await failedCharge.first().waitFor();
      assert.match(await failedCharge.first().innerText(), /Failure Message\s+Card declined/);
      const completed = await main.getByRole('row').filter({ hasText: 'Activity Task Completed' }).allInnerTexts();
      const completedTasks = expectedActivities.filter(
        (activity) => activity !== 'chargePayment' && !localActivities.includes(activity),
      );
      assert.equal(completed.length, completedTasks.length, completed.join('\n'));
      for (const row of completed) assert.match(row, /Result\s+\{"/);
      // A local activity is one row; opened, it shows its marker's details: its type and its result, decrypted.
      for (const activity of localActivities) {
        await main
          .getByRole('row')
          .filter({ hasText: 'Local Activity' })
          .filter({ hasText: new RegExp(`Activity Type\\s+${activity}\\b`) })
          .getByText('Local Activity', { exact: true })
          .click();
        const details = main.getByRole('row').filter({ hasText: 'core_local_activity' }).filter({ hasText: activity });
        await details.waitFor();
        const text = await details.innerText();
        assert.match(text, new RegExp(`"activity_type": "${activity}"`), text);
        assert.match(text, localResults(orderId)[activity]!, `${activity}'s result is shown decrypted:\n${text}`);
      }
      screenshots.push(await saveScreenshot(page, 'order-run-local-activities'));
    } catch (error) {
      screenshots.push(await saveScreenshot(page, 'failure').catch(() => 'none (the screenshot failed too)'));
      throw error;
    } finally {
      for (const file of screenshots) t.diagnostic(`screenshot: ${file}`);
      await context.close();
    }
  },
);

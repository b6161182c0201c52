import * as util from 'node:util';
import { formatCents } from '../../src/domain/money';
import { describeShippingRate } from '../../src/domain/shipping-rate';
import type { CompensationStatus, OrderSagaState, OrderStatus } from '../../src/workflows/definitions';
import type { SagaEvent } from './saga-events';

type Style = Parameters<typeof util.styleText>[0];

/** Paints text only for a terminal that wants colours (not piped, no NO_COLOR), and only where Node can (20.12+). */
export function painter(enabled: boolean): (style: Style, text: string) => string {
  const styleText = typeof util.styleText === 'function' ? util.styleText : undefined;
  return (style, text) => (enabled && styleText ? styleText(style, text) : text);
}

export function elapsed(ms: number): string {
  return `+${(ms / 1000).toFixed(2)}s`.padStart(8);
}

const statusStyles: Record<OrderStatus, Style> = {
  running: 'cyan',
  'awaiting-approval': 'yellow',
  compensating: 'magenta',
  'needs-attention': ['bold', 'yellow'],
  confirmed: ['bold', 'green'],
  cancelled: ['bold', 'yellow'],
  failed: ['bold', 'red'],
};

const compensationStyles: Record<CompensationStatus, Style> = {
  pending: 'gray',
  running: 'magenta',
  completed: 'green',
  failed: 'red',
  'resolved-manually': 'yellow',
};

export type Paint = ReturnType<typeof painter>;

/** The label column of a live line, wide enough for the longest label and a space. */
export function labelColumn(paint: Paint, text: string, style: Style = 'dim'): string {
  return paint(style, `${text} `.padEnd(14));
}

/** One line per event, after its elapsed time: a label column, then what happened. */
export function describeEvent(event: SagaEvent, paint: Paint): string {
  const label = (text: string) => labelColumn(paint, text);
  const status = (value: OrderStatus) => paint(statusStyles[value], value);
  switch (event.type) {
    case 'status':
      return `${label('status')}${event.from ? `${event.from} → ` : ''}${status(event.to)}`;
    case 'step-started':
      return `${label('step')}${paint('bold', event.step)} started`;
    case 'step-completed':
      return `${label('step')}${paint('bold', event.step)} ${paint('green', 'completed')}`;
    case 'total':
      return `${label('total')}${formatCents(event.totalCents)}`;
    case 'payment':
      return `${label('payment')}${event.paymentId}`;
    case 'shipment':
      return `${label('shipment')}${event.shipmentId}${event.trackingNumber ? `, tracking ${event.trackingNumber}` : ''}`;
    case 'shipping-rate':
      return `${label('shipping rate')}${describeShippingRate(event.rate)}`;
    case 'failure':
      return `${label('failure')}${paint('red', event.failure.type)} at ${event.failure.step}: ${event.failure.message}`;
    case 'cancellation':
      return `${label('cancellation')}${event.reason}`;
    case 'compensation-plan':
      return `${label('compensate')}in this order: ${event.compensations.join(' → ')}`;
    case 'compensation': {
      const { record } = event;
      const details = [`run ${record.runs}`];
      if (record.lastError) details.push(`last error: ${record.lastError}`);
      if (record.operatorNote) details.push(`operator: ${record.operatorNote}`);
      return `${label('compensation')}${paint('bold', record.compensation)} ${paint(compensationStyles[record.status], record.status)} (${details.join('; ')})`;
    }
  }
}

/** The closing lines: where the order ended, its total, and its run in the Web UI. */
export function describeOutcome(state: OrderSagaState, runUrl: string, paint: Paint): string[] {
  const parts = [paint(statusStyles[state.status], state.status)];
  if (state.failure) parts.push(`${state.failure.type} at ${state.failure.step}: ${state.failure.message}`);
  const lines = [`Final: ${parts.join(' — ')}`];
  if (state.totalCents !== null) lines.push(`Total: ${formatCents(state.totalCents)}`);
  if (state.shippingRate) lines.push(`Shipping rate: ${describeShippingRate(state.shippingRate)}`);
  const compensated = state.compensations.map((record) => `${record.compensation} ${record.status}`);
  if (compensated.length > 0) lines.push(`Compensations: ${compensated.join(', ')}`);
  lines.push(`Web UI: ${runUrl}`);
  return lines;
}

/** Commands that let a person move an order on. */
export function humanWaitHint(state: OrderSagaState, apiUrl: string): string[] {
  const orderUrl = `${apiUrl}/orders/${state.orderId}`;
  const json = `-H 'content-type: application/json'`;
  if (state.status === 'awaiting-approval') {
    return [
      `The order is over the approval threshold and waits for a decision (24 h by default, APPROVAL_TIMEOUT). Approve it:`,
      `  curl -X POST ${orderUrl}/approve ${json} -d '{"decidedBy":"you"}'`,
      `or reject it (the saga then compensates):`,
      `  curl -X POST ${orderUrl}/reject ${json} -d '{"decidedBy":"you","comment":"too expensive"}'`,
    ];
  }
  const stuck = state.compensations.find((record) => record.status === 'failed');
  return [
    `A compensation${stuck ? ` (${stuck.compensation})` : ''} could not finish and waits for an operator. Mark it done by hand:`,
    `  curl -X POST ${orderUrl}/compensation ${json} -d '{"action":"mark-resolved","note":"refunded by bank transfer"}'`,
    `or run it again:`,
    `  curl -X POST ${orderUrl}/compensation ${json} -d '{"action":"retry","note":"issuer asked to retry"}'`,
  ];
}

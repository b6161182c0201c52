import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { defaultDraft, findScenario, scenarios, type OrderDraft, type Scenario } from './scenarios';

export const defaultApiUrl = 'http://127.0.0.1:3000';
export const defaultUiUrl = 'http://localhost:8233';
export const defaultTimeoutSeconds = 120;

/**
 * Exit codes, as --help documents them: the convention of the project's commands (0 done, 1 failed, 2 bad usage) and
 * the shell's for an interrupt.
 */
export const exitCodes = { done: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** A mistake in the command line: reported in one line, exit code 2. */
export class UsageError extends Error {}

export interface PlaceCommand {
  kind: 'place';
  scenario: Scenario | undefined;
  draft: OrderDraft;
  idempotencyKey: string;
}

export interface FollowCommand {
  kind: 'follow';
  orderId: string;
}

export interface CliOptions {
  command: PlaceCommand | FollowCommand | { kind: 'help' } | { kind: 'list' };
  apiUrl: string;
  /** Sent as a bearer token; needed wherever the API runs with API_AUTH=required. */
  apiKey: string | undefined;
  uiUrl: string;
  namespace: string;
  timeoutMs: number;
  /** Keep following while the order waits for a person, instead of stopping there. */
  waitForHuman: boolean;
  json: boolean;
}

const optionSpec = {
  help: { type: 'boolean', short: 'h' },
  list: { type: 'boolean' },
  api: { type: 'string' },
  'api-key': { type: 'string' },
  ui: { type: 'string' },
  namespace: { type: 'string' },
  sku: { type: 'string' },
  quantity: { type: 'string' },
  token: { type: 'string' },
  'postal-code': { type: 'string' },
  customer: { type: 'string' },
  key: { type: 'string' },
  follow: { type: 'string' },
  timeout: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export function scenarioList(): string {
  const width = Math.max(...scenarios.map((scenario) => scenario.name.length));
  return scenarios.map((scenario) => `  ${scenario.name.padEnd(width)}  ${scenario.summary}`).join('\n');
}

export function helpText(): string {
  return `Places an order through the API and follows its saga live: each step and compensation as it happens.

Usage: npx order [scenario] [options]            (or npm run order -- ...)
       npx order --follow <order id> [options]

Scenarios (the README's failure triggers; options below override their order):
${scenarioList()}

Options:
  --api <url>           the API (default ${defaultApiUrl}, or ORDER_API_URL)
  --api-key <key>       the API key (or ORDER_API_KEY); not needed under npm start, where auth is off
  --ui <url>            the Temporal Web UI, for the run's link (default ${defaultUiUrl}, or TEMPORAL_UI_URL)
  --namespace <name>    the Temporal namespace, for the run's link (default default)
  --sku <sku>           the item (default ${defaultDraft.sku})
  --quantity <n>        how many (default ${defaultDraft.quantity})
  --token <token>       the payment token (default ${defaultDraft.token})
  --postal-code <code>  the shipping address's postal code (default ${defaultDraft.postalCode})
  --customer <id>       the customer (default ${defaultDraft.customerId})
  --key <key>           the Idempotency-Key (default a new UUID; the same key and order follow the same run)
  --follow <order id>   follow an order already placed instead of placing one
  --timeout <seconds>   stop following after this long (default ${defaultTimeoutSeconds})
  --wait                keep following while the order waits for an approval or an operator
  --json                print each event as one JSON line
  --list                list the scenarios
  -h, --help            show this help

Exit codes:
  0  the order reached a final state (confirmed, failed or cancelled: the saga did its job),
     or stopped where it waits for a person (approval or operator; the output says how to go on)
  1  failed: the API refused the request or could not be reached, or --timeout ran out before the order
     got there (it goes on in Temporal)
  2  bad usage (an unknown option or scenario, a missing or invalid value)
  130  interrupted (Ctrl-C); the order goes on in Temporal`;
}

function parseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${name} must be a URL such as http://127.0.0.1:3000, not '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--${name} must be an http or https URL, not '${value}'`);
  }
  return value.replace(/\/+$/, '');
}

function positiveNumber(name: string, value: string, integer: boolean): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not '${value}'`);
  }
  return number;
}

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: optionSpec, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains itself in one sentence (unknown option, missing value).
    throw new UsageError((error as Error).message.split('. ')[0] ?? String(error));
  }
  const { values, positionals } = parsed;
  const common = {
    apiUrl: parseUrl('api', values.api ?? (env.ORDER_API_URL || defaultApiUrl)),
    apiKey: values['api-key'] ?? (env.ORDER_API_KEY || undefined),
    uiUrl: parseUrl('ui', values.ui ?? (env.TEMPORAL_UI_URL || defaultUiUrl)),
    namespace: values.namespace ?? 'default',
    timeoutMs: positiveNumber('timeout', values.timeout ?? String(defaultTimeoutSeconds), false) * 1000,
    waitForHuman: values.wait ?? false,
    json: values.json ?? false,
  };
  if (values.help) return { ...common, command: { kind: 'help' } };
  if (values.list) return { ...common, command: { kind: 'list' } };

  if (positionals.length > 1) {
    throw new UsageError(`one scenario at a time, not ${positionals.join(' ')}`);
  }
  const [scenarioName] = positionals;
  const scenario = scenarioName === undefined ? undefined : findScenario(scenarioName);
  if (scenarioName !== undefined && !scenario) {
    throw new UsageError(
      `unknown scenario '${scenarioName}'; choose one of: ${scenarios.map((known) => known.name).join(', ')}`,
    );
  }

  if (values.follow !== undefined) {
    const orderOptions = ['sku', 'quantity', 'token', 'postal-code', 'customer', 'key'] as const;
    const clash = orderOptions.find((name) => values[name] !== undefined);
    if (scenario || clash) {
      throw new UsageError(
        `--follow follows an order already placed; it takes no ${clash ? `--${clash}` : 'scenario'}`,
      );
    }
    return { ...common, command: { kind: 'follow', orderId: values.follow } };
  }

  const draft: OrderDraft = { ...defaultDraft, ...scenario?.order };
  if (values.sku !== undefined) draft.sku = values.sku;
  if (values.quantity !== undefined) draft.quantity = positiveNumber('quantity', values.quantity, true);
  if (values.token !== undefined) draft.token = values.token;
  if (values['postal-code'] !== undefined) draft.postalCode = values['postal-code'];
  if (values.customer !== undefined) draft.customerId = values.customer;
  return {
    ...common,
    command: { kind: 'place', scenario, draft, idempotencyKey: values.key ?? randomUUID() },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createCarrierClient,
  defaultCarrierClientOptions,
  type CarrierClient,
} from '../../src/partners/carrier-client';
import {
  createGatewayClient,
  defaultGatewayClientOptions,
  type GatewayClient,
} from '../../src/partners/gateway-client';
import { launchCarrier, launchGateway, type CarrierProcess, type GatewayProcess } from '../../simulators/launch';
import { freePort } from '../../src/net/ports';

/** The payment gateway's process on a free port, its store in a folder of its own that `stop` deletes. */
export interface TestGateway {
  process: GatewayProcess;
  /** The gateway's SQLite store, for tests that age or inspect it behind the gateway's back. */
  databaseFile: string;
  /** A client with the workers' default policies. */
  client: GatewayClient;
  stop(): Promise<void>;
}

/** The carrier's process on a free port. */
export interface TestCarrier {
  process: CarrierProcess;
  /** A client with the workers' default policies. */
  client: CarrierClient;
  stop(): Promise<void>;
}

export async function startGateway(
  clientOptions: Partial<typeof defaultGatewayClientOptions> = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'order-saga-gateway-'));
  const databaseFile = path.join(dir, 'gateway.db');
  try {
    const gateway = await launchGateway({ port: await freePort(), databaseUrl: `file:${databaseFile}` });
    return {
      process: gateway,
      databaseFile,
      client: createGatewayClient({ ...defaultGatewayClientOptions, ...clientOptions, baseUrl: gateway.url }),
      async stop() {
        await gateway.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function startCarrier(): Promise<TestCarrier> {
  const carrier = await launchCarrier({ port: await freePort() });
  return {
    process: carrier,
    client: createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: carrier.url }),
    stop: () => carrier.stop(),
  };
}

/** Both partners, as the payments and shipping workers reach them. */
export interface TestPartners {
  gateway: TestGateway;
  carrier: TestCarrier;
  /** The clients, in the shape the service workers take them (`serviceActivities`). */
  clients: { gateway: GatewayClient; carrier: CarrierClient };
  stop(): Promise<void>;
}

export async function startPartners(
  gatewayClientOptions: Partial<typeof defaultGatewayClientOptions> = {},
): Promise<TestPartners> {
  const gateway = await startGateway(gatewayClientOptions);
  let carrier: TestCarrier;
  try {
    carrier = await startCarrier();
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return {
    gateway,
    carrier,
    clients: { gateway: gateway.client, carrier: carrier.client },
    async stop() {
      await gateway.stop();
      await carrier.stop();
    },
  };
}

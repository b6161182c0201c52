/** The inventory service's catalogue, seeded after migration. */
import type { InventoryDb } from './inventory';

export interface CatalogueProduct {
  sku: string;
  name: string;
  priceCents: number;
  /** Stock given to a product when it is first created. */
  available: number;
}

export const catalogue: readonly CatalogueProduct[] = Object.freeze([
  { sku: 'SKU-MUG', name: 'Temporal mug', priceCents: 1200, available: 1000 },
  { sku: 'SKU-TEE', name: 'Saga T-shirt', priceCents: 2500, available: 1000 },
  { sku: 'SKU-HOODIE', name: 'Durable hoodie', priceCents: 5900, available: 500 },
  { sku: 'SKU-LAPTOP', name: 'Workflow laptop', priceCents: 149900, available: 50 },
  { sku: 'SKU-SOLDOUT', name: 'Limited poster (sold out)', priceCents: 900, available: 0 },
]);

/**
 * Idempotent: creates missing products with their initial stock and updates
 * the name and price of existing ones, never their stock (which reservations
 * have changed since). One transaction, so a crash leaves all or nothing.
 */
export async function seedCatalogue(
  db: Pick<InventoryDb, 'product' | '$transaction'>,
  products: readonly CatalogueProduct[] = catalogue,
): Promise<void> {
  await db.$transaction(
    products.map(({ sku, name, priceCents, available }) =>
      db.product.upsert({
        where: { sku },
        create: { sku, name, priceCents, available },
        update: { name, priceCents },
      }),
    ),
  );
}

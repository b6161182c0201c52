import { z } from 'zod';

/**
 * What a client sends to place an order. Prices are not part of it: the
 * inventory service prices each line from its catalogue when it reserves stock.
 */
export const orderRequestSchema = z
  .object({
    customerId: z.string().trim().min(1).max(64),
    items: z
      .array(
        z.strictObject({
          sku: z.string().trim().min(1).max(64),
          quantity: z.number().int().min(1).max(100),
        }),
      )
      .min(1)
      .max(50)
      .refine((items) => new Set(items.map((item) => item.sku)).size === items.length, {
        message: 'each sku may appear only once; raise its quantity instead',
      }),
    payment: z.strictObject({
      token: z.string().trim().min(1).max(64),
    }),
    shippingAddress: z.strictObject({
      recipient: z.string().trim().min(1).max(100),
      line1: z.string().trim().min(1).max(200),
      city: z.string().trim().min(1).max(100),
      postalCode: z.string().trim().min(1).max(20),
      country: z
        .string()
        .trim()
        .regex(/^[A-Z]{2}$/, 'a two-letter ISO 3166 country code, e.g. US'),
    }),
  })
  .strict();

export type OrderRequest = z.infer<typeof orderRequestSchema>;
export type OrderItem = OrderRequest['items'][number];
export type ShippingAddress = OrderRequest['shippingAddress'];

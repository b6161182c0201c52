/**
 * Money as the services keep it: whole cents, in one currency. A module of its own, importing nothing, because the
 * order workflow formats amounts too: its bundle is loaded again for every run, and a module pulled in with this
 * function (the order schema's zod, say) would be built again for every run as well.
 */
export const currency = 'USD';

export function formatCents(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

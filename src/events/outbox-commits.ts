/**
 * The in-process signal that lets a relay sleep long while idle and still
 * deliver at once (relay.ts): a service's client, wrapped by
 * {@link wakeOnOutboxCommit}, calls `wake` after each of its interactive
 * transactions that wrote an outbox row has committed.
 *
 * After the commit, not at the write: a relay woken earlier would find
 * nothing yet and back off. Only transactions that wrote a row: appendEvent
 * marks the transaction client it was given, and the wrapper looks for that
 * mark once the transaction resolved (a rollback rejects, so never wakes). A
 * WeakSet keeps the mark off the client itself and lets it go with the
 * transaction.
 *
 * A wake is a hint, never the guarantee: a relay that misses one (another
 * process wrote the row, this one crashed before the wake) still finds the row
 * at its next poll.
 */

const transactionsWithEvents = new WeakSet<object>();

/** Called by appendEvent: `tx` (a transaction client) wrote an outbox row. */
export function markOutboxWrite(tx: object): void {
  transactionsWithEvents.add(tx);
}

type Transaction = (first: unknown, ...rest: unknown[]) => Promise<unknown>;

/**
 * `db` as it was, except that its `$transaction(work)` calls `wake` once a transaction in which appendEvent wrote
 * committed. (The batch form, `$transaction([queries])`, takes queries built outside any transaction, so never
 * appendEvent's, and passes through.)
 */
export function wakeOnOutboxCommit<Db extends { $transaction: unknown }>(db: Db, wake: () => void): Db {
  const transaction = (db.$transaction as Transaction).bind(db);
  const notifying: Transaction = async (first, ...rest) => {
    if (typeof first !== 'function') return transaction(first, ...rest);
    const work = first as (tx: object) => unknown;
    let client: object | undefined;
    const result = await transaction(
      (tx: object) => {
        client = tx;
        return work(tx);
      },
      ...rest,
    );
    if (client !== undefined && transactionsWithEvents.has(client)) wake();
    return result;
  };
  return new Proxy(db, {
    get: (target, property, receiver) =>
      property === '$transaction' ? notifying : (Reflect.get(target, property, receiver) as unknown),
  });
}

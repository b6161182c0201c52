/**
 * The order workflow's patch ids, in the order they were added (docs/VERSIONING.md: each names one change, is never
 * reused, and leaves only in the stages described there). Each `patched()` call stays where its change takes effect.
 */
export const sagaPatches = {
  /**
   * Since this patch the confirm step commits the order's stock reservation. Runs whose confirm step was recorded
   * without it replay without it.
   */
  commitReservationOnConfirm: 'commit-reservation-on-confirm',
  /**
   * Since this patch the cancelOrder update completes once the cancellation has run its course; before, it completed
   * at once. Runs whose cancellation was recorded the old way replay the old way.
   */
  cancelAnswersWhenSettled: 'cancel-answers-when-settled',
  /**
   * Since this patch the run publishes the `OrderTotal` search attribute as soon as the stock is reserved (one more
   * upsert command, so older runs replay without it).
   */
  orderTotalSearchAttribute: 'order-total-search-attribute',
  /**
   * Since this patch a step whose round of retries runs out waits (another round) instead of failing the order. Asked
   * only when a round has run out, so runs that never waited carry no marker, and runs recorded before it fail that
   * step as they did.
   */
  stepsWaitOutTransientFailures: 'steps-wait-out-transient-failures',
  /**
   * Since this patch the orders service's steps (create-order's and confirm-order's first round of retries, and
   * cancel-order) run as local activities in the orders worker that runs the workflow, two dispatches fewer each.
   * Asked when such a step starts its first round or such a compensation runs, so older runs replay them as activity
   * tasks on the orders queue up to where their history ends.
   */
  ordersStepsInWorkflowWorker: 'orders-steps-in-workflow-worker',
} as const;

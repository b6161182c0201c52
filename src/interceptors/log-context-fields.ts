/**
 * The activity header that carries the id of the request that placed the order, from the order's run (its memo) to
 * each activity it schedules, whose log lines then name it.
 */
export const requestIdActivityHeader = 'order-saga-request-id';

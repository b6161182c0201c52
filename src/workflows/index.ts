// The worker bundles this file: every workflow the orders worker runs is exported here.
export { orderSaga } from './order-saga';

import { describeTokenStoreContract } from '../../test-support/token-store.contract.js';
import { InMemoryTokenStore } from './in-memory-token.store.js';

describeTokenStoreContract('InMemoryTokenStore', async () => {
  const store = new InMemoryTokenStore({ shared: true });
  return {
    store,
    // Instances sharing one in-process store share the object itself.
    peer: () => store,
    // Its waiters register within the microtasks that follow the call.
    untilWaiting: () => new Promise((resolve) => setImmediate(resolve)),
    close: async () => undefined,
  };
});

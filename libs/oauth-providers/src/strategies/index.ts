// Filled by the strategies work: one file per provider, each exporting its class and factory.
export {};

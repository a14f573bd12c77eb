// Shared stores beyond the in-memory default (RedisTokenStore) are exported from here.
export {};

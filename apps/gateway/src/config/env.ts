/** The process environment as the configuration reads it: variable names to values, any of them unset. */
export type Env = Record<string, string | undefined>;

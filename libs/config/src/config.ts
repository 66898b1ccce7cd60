import { z } from 'zod';

export interface ConfigVariable<T extends z.ZodType = z.ZodType> {
  schema: T;
  description: string;
  /** Never logged or echoed back in an error message. */
  sensitive?: boolean;
}

export type ConfigSpec = Record<string, ConfigVariable>;
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: z.output<S[K]['schema']> };

export function variable<T extends z.ZodType>(
  schema: T,
  description: string,
  options: { sensitive?: boolean } = {},
): ConfigVariable<T> {
  return { schema, description, ...options };
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates every variable of `spec` from the environment at once, so a bad start-up
 * names all the variables that are wrong, not only the first.
 */
export function loadConfig<S extends ConfigSpec>(
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const values: Record<string, unknown> = {};
  const problems: { variable: string; message: string }[] = [];
  for (const [name, variable] of Object.entries(spec)) {
    const raw = env[name];
    const parsed = variable.schema.safeParse(raw === '' ? undefined : raw);
    if (parsed.success) {
      values[name] = parsed.data;
    } else {
      const message = parsed.error.issues.map((i) => i.message).join('; ');
      problems.push({
        variable: name,
        message: variable.sensitive ? message : `${message} (got ${JSON.stringify(raw)})`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as ConfigOf<S>;
}

/** The variables of a spec as documentation rows, for the README and `--help`. */
export function describeConfig(spec: ConfigSpec): { variable: string; description: string }[] {
  return Object.entries(spec).map(([variable, v]) => ({ variable, description: v.description }));
}

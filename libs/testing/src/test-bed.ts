import 'reflect-metadata';
import {
  OPTIONAL_DEPS_METADATA,
  PARAMTYPES_METADATA,
  SELF_DECLARED_DEPS_METADATA,
} from '@nestjs/common/constants';
import { PLATFORM_TENANT_ID } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { EntityManager } from 'typeorm';

type Class<T = unknown> = abstract new (...args: never[]) => T;
type Token<T = unknown> = Class<T> | symbol | string;

/** A class dependency whose methods are jest mocks that fail when called without a behaviour. */
export type StrictMock<T> = jest.Mocked<T>;

/** One dependency given as a real object instead of a strict mock (a fixed clock, settings). */
export interface Override<T = unknown> {
  readonly token: Token<T>;
  readonly value: T;
}

export function provide<T>(token: Token<T>, value: T): Override<T> {
  return { token, value };
}

export interface TestBedMocks {
  /** The strict mock that stands for a class the service depends on. */
  get<T>(token: Class<T>): StrictMock<T>;
}

export interface TestBed<S> {
  sut: S;
  mocks: TestBedMocks;
}

/**
 * Builds a service the way Nest would, from its constructor's dependencies, with a strict mock
 * in place of each class and the given overrides in place of the rest. A dependency injected by
 * a token that is not a class (settings, a logger, a connection) has no shape to mock, so it must
 * be given, unless it is optional.
 */
export function createTestBed<S>(
  Service: new (...args: never[]) => S,
  overrides: readonly Override[] = [],
): TestBed<S> {
  const types = (Reflect.getMetadata(PARAMTYPES_METADATA, Service) ?? []) as unknown[];
  const declared = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, Service) ?? []) as {
    index: number;
    param: unknown;
  }[];
  const optional = (Reflect.getMetadata(OPTIONAL_DEPS_METADATA, Service) ?? []) as number[];
  const given = new Map<unknown, unknown>(overrides.map((o) => [o.token, o.value]));
  const mocks = new Map<unknown, unknown>();
  const tokens: unknown[] = [];

  const args = types.map((type, index) => {
    const token = resolveForwardRef(declared.find((d) => d.index === index)?.param ?? type);
    tokens.push(token);
    if (given.has(token)) return given.get(token);
    if (isClass(token) && !BUILT_INS.has(token)) {
      const mock = mocks.get(token) ?? strictMock(token);
      mocks.set(token, mock);
      return mock;
    }
    if (optional.includes(index)) return undefined;
    throw new Error(
      `${Service.name} needs ${nameOf(token)} (constructor parameter ${index + 1}), which is not ` +
        `a class the test bed can mock: give it with provide(${nameOf(token)}, value)`,
    );
  });
  for (const token of given.keys()) {
    if (!tokens.includes(token)) {
      throw new Error(`${Service.name} does not depend on ${nameOf(token)}; remove the override`);
    }
  }

  const sut = new Service(...(args as never[]));
  return {
    sut,
    mocks: {
      get<T>(token: Class<T>): StrictMock<T> {
        if (mocks.has(token)) return mocks.get(token) as StrictMock<T>;
        throw new Error(
          given.has(token)
            ? `${nameOf(token)} was given to the test bed as a real object, not mocked`
            : `${Service.name} does not depend on ${nameOf(token)}`,
        );
      },
    },
  };
}

/** A TenantScope that runs the work at once, noting whose scope each unit of work ran in. */
export type RecordingScope = TenantScope & { readonly tenants: readonly string[] };

export interface ScopedTransactions {
  /** Give it to the test bed with `provide(TenantScope, scope)`. */
  scope: RecordingScope;
  /** The strict mock every unit of work receives as its transaction. */
  em: StrictMock<EntityManager>;
  /** The tenants the work ran for, in order; the platform's scope counts as PLATFORM_TENANT_ID. */
  tenants: readonly string[];
}

/**
 * Stand-ins for a service's tenant transactions: no database, the work runs at once with one
 * strict-mock EntityManager, so a test sees which repository calls each unit made and for whom.
 */
export function scopedTransactions(): ScopedTransactions {
  const em = strictMock(EntityManager);
  const tenants: string[] = [];
  class InlineScope extends TenantScope {
    readonly tenants = tenants;
    constructor() {
      super(null as never);
    }
    // async, as a real transaction is: a unit of work that throws is a rejected promise
    override async run<T>(tenantId: string, work: (em: EntityManager) => Promise<T>): Promise<T> {
      tenants.push(tenantId);
      return work(em);
    }
    override async runAsPlatform<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
      tenants.push(PLATFORM_TENANT_ID);
      return work(em);
    }
  }
  return { scope: new InlineScope(), em, tenants };
}

/** Names properties that libraries probe on any object; answering them with a mock misleads. */
const NOT_METHODS = new Set([
  'then',
  'toJSON',
  'asymmetricMatch',
  '$$typeof',
  'nodeType',
  'constructor',
]);

/**
 * A mock of a class: each method, including abstract ones that exist only in its type, is a
 * jest.fn that fails the test, naming the class and method, until the test gives it a behaviour.
 */
export function strictMock<T>(Type: Class<T>): StrictMock<T> {
  const mock: Record<string | symbol, unknown> = {};
  for (let proto = Type.prototype as object | null; proto && proto !== Object.prototype;) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (typeof descriptor.value === 'function' && !NOT_METHODS.has(name) && !(name in mock)) {
        mock[name] = strictFn(`${Type.name}.${name}`);
      }
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return new Proxy(mock, {
    get(target, property) {
      if (property in target || typeof property === 'symbol' || NOT_METHODS.has(property)) {
        return target[property];
      }
      // an abstract method is not on the prototype: made the first time it is asked for
      return (target[property] = strictFn(`${Type.name}.${property}`));
    },
  }) as StrictMock<T>;
}

const unexpected: string[] = [];

function strictFn(label: string): jest.Mock {
  return jest.fn((..._args: unknown[]) => {
    const message =
      `${label} was called without a behaviour: give it one in the test ` +
      `(mockResolvedValue, mockReturnValue, mockImplementation) or override the dependency`;
    unexpected.push(message);
    throw new Error(message);
  });
}

/**
 * The calls of strict mocks that had no behaviour since the last look. Each test fails on them
 * after it ends, so a call the service swallowed (a catch, a fire-and-forget) still fails it.
 */
export function takeUnexpectedCalls(): string[] {
  return unexpected.splice(0);
}

if (typeof afterEach === 'function') {
  try {
    afterEach(() => {
      const calls = takeUnexpectedCalls();
      if (calls.length > 0) throw new Error(calls.join('\n'));
    });
  } catch {
    // imported inside a running test: hooks can no longer be added, the throw at the call remains
  }
}

// what TypeScript writes for an interface, a primitive or a union: nothing to mock from
const BUILT_INS = new Set<unknown>([
  Object,
  String,
  Number,
  Boolean,
  Array,
  Function,
  Promise,
  Map,
  Set,
]);

function isClass(token: unknown): token is Class {
  return typeof token === 'function' && typeof token.prototype === 'object';
}

function resolveForwardRef(token: unknown): unknown {
  const ref = token as { forwardRef?: () => unknown } | undefined;
  return typeof ref?.forwardRef === 'function' ? ref.forwardRef() : token;
}

function nameOf(token: unknown): string {
  if (typeof token === 'function') return token.name || 'an anonymous class';
  if (typeof token === 'symbol') return token.description ?? token.toString();
  if (token === undefined) return 'an undefined type (a circular import, or a type-only import)';
  return String(token);
}

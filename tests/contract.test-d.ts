/**
 * Compile-time checks that every side of the UI<->core contract is complete. Run by Vitest's
 * typecheck (vitest.config.ts) and by `tsc -p tsconfig.json`. Each block names what it catches.
 */
import { describe, expectTypeOf, test } from 'vitest';
import type {
  CallHandlers,
  CallInput,
  CallName,
  CallOutput,
  CallOutputs,
  CallParsed,
  EventName,
  EventPayloads,
  PreloadBridge,
  SpotterApi,
} from '../electron/shared/contract.js';
import { CallInputs, EVENT_NAMES } from '../electron/shared/contract.js';
import type { createCoreApi } from '../electron/core/api.js';
import type { ExposedBridge } from '../electron/preload/preload.js';

/** What createCoreApi really returns, not what CoreApi is declared to be. */
type CoreImpl = Awaited<ReturnType<typeof createCoreApi>>;

describe('contract completeness', () => {
  test('(a) the core implements a handler for every call, with the contract types', () => {
    expectTypeOf<Exclude<CallName, keyof CoreImpl>>().toEqualTypeOf<never>();
    expectTypeOf<Pick<CoreImpl, CallName>>().toEqualTypeOf<CallHandlers>();
    // handlers take the parsed input (defaults applied) and resolve to the declared output
    expectTypeOf<CoreImpl['datasets.images']>().parameter(0).toEqualTypeOf<CallParsed<'datasets.images'>>();
    expectTypeOf<CoreImpl['datasets.images']>().returns.resolves.toEqualTypeOf<CallOutput<'datasets.images'>>();
  });

  test('(b) the preload bridge exposes call, on and pathForFile', () => {
    expectTypeOf<ExposedBridge>().toExtend<PreloadBridge>();
    expectTypeOf<ExposedBridge>().toHaveProperty('call');
    expectTypeOf<ExposedBridge>().toHaveProperty('on');
    expectTypeOf<ExposedBridge>().toHaveProperty('pathForFile');
    expectTypeOf<ExposedBridge['pathForFile']>().toEqualTypeOf<(file: File) => string>();
    expectTypeOf<PreloadBridge>().toExtend<SpotterApi>();
    // on() hands back its unsubscribe
    expectTypeOf<ReturnType<PreloadBridge['on']>>().toEqualTypeOf<() => void>();
  });

  test('(c) EVENT_NAMES lists exactly the events of EventPayloads', () => {
    expectTypeOf<(typeof EVENT_NAMES)[number]>().toEqualTypeOf<EventName>();
    expectTypeOf<keyof EventPayloads>().toEqualTypeOf<(typeof EVENT_NAMES)[number]>();
  });

  test('(d) every call has both an input schema and an output type', () => {
    expectTypeOf<keyof typeof CallInputs>().toEqualTypeOf<keyof CallOutputs>();
    expectTypeOf<keyof CallOutputs>().toEqualTypeOf<CallName>();
  });

  test('the typed API rejects unknown names and wrong inputs', () => {
    const api = null as unknown as SpotterApi;
    const typed = () => {
      // @ts-expect-error not a call of the contract
      void api.call('no.such.call', {});
      // @ts-expect-error limit must be a number
      void api.call('datasets.images', { dir: '/d', limit: '10' });
      // @ts-expect-error not an event of the contract
      api.on('no.such.event', () => {});
      // inputs with schema defaults may be omitted by the caller
      expectTypeOf<CallInput<'datasets.images'>>().toExtend<{ dir: string }>();
    };
    void typed;
  });
});

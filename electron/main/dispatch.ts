/**
 * The transport-neutral half of the Electron IPC handler: name check, zod validation, call, and
 * errors flattened to the WireError shape. No electron import, so it is unit-tested directly.
 */
import { z } from 'zod';
import { CallInputs, type CallHandlers, type CallName, type WireError } from '../shared/contract.js';
import type { CallReply } from '../preload/channels.js';

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.hasOwn(CallInputs, name);
}

/** Any thrown value as a WireError: its message plus a code when it carries one (ENOENT, cancelled…). */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return { message: err.message, code };
    if (err.name === 'CancelledError') return { message: err.message, code: 'cancelled' };
    return err.name && err.name !== 'Error' ? { message: err.message, code: err.name } : { message: err.message };
  }
  return { message: String(err) };
}

/** Validate `input` for call `name` and run it on `handlers`; never throws. */
export async function dispatchCall(handlers: CallHandlers, name: unknown, input: unknown): Promise<CallReply> {
  if (!isCallName(name)) {
    return { ok: false, error: { code: 'unknown_call', message: `Unknown call: ${JSON.stringify(name)}` } };
  }
  const parsed = (CallInputs[name] as z.ZodType).safeParse(input);
  if (!parsed.success) {
    return { ok: false, error: { code: 'invalid_input', message: `Invalid input for ${name}:\n${z.prettifyError(parsed.error)}` } };
  }
  try {
    // The schema for `name` produced parsed.data, so it is CallParsed<typeof name>; TS cannot follow
    // the correlation through the union of handlers.
    const handler = handlers[name] as (input: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.data) };
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}

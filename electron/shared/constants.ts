/**
 * Plain constants both sides need at run time, kept apart from the zod schemas so the renderer
 * bundle imports values from here and only types from contract.ts (no zod in the page).
 */

/** The custom protocol serving allowed local files to the Electron renderer. */
export const FILE_PROTOCOL = 'spotter-file';

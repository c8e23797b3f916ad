declare const __SPOTTER_VERSION__: string | undefined;
/** Set by the build (esbuild define); tests running from source read package.json's version as "dev". */
export const SPOTTER_VERSION: string = typeof __SPOTTER_VERSION__ === 'string' ? __SPOTTER_VERSION__ : '0.0.0-dev';

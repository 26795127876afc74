// The toolchain lives in src/toolchain/tools.mjs (the drill uses it too, and src/ never imports scripts/); this
// re-export keeps `npm run tools` and the scripts that import ./tools.mjs as they were. Plain ESM: runs before `npm ci`.
export * from '../src/toolchain/tools.mjs';

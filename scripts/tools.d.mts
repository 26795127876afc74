export * from '../src/toolchain/tools.mjs';

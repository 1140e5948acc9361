// Replaced at build time by webpack's DefinePlugin (webpack.config.js).
/** True in development builds (the browser tests'): they carry the test hooks; production builds do not. */
declare const VOLMICRO_TEST_HOOKS: boolean;

/** The WebAssembly decode kernel, inlined by webpack (asset/inline) as a data URL. */
declare module "*.wasm" {
  const url: string;
  export default url;
}

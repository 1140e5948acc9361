// Builds a Neuroglancer 2.41.2 page with the VolMicro `vmg://` plugin into dist/.
//   npx webpack --mode production     (npm run build)
//   npx webpack --mode development    (npm run build:dev: about 4x faster, used by the browser tests)
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import webpack from "webpack";

const root = dirname(fileURLToPath(import.meta.url));
const viewer = resolve(root, "src/viewer");
/** Neuroglancer names its async-computation worker's chunk so (async_computation/request.js). */
const ASYNC_WORKER_CHUNK = "neuroglancer_async_computation";

/**
 * Neuroglancer starts its workers from hard-coded bundle URLs. Point those two `new Worker(...)`
 * requests (and only those: the issuer check keeps our own import of the stock bundle intact) at
 * our entries, which load the stock bundle and then our backend modules.
 */
function redirectWorker(bundle, issuerSuffix, target) {
  const pattern = new RegExp(`${bundle.replace(/\./g, "\\.")}$`);
  return new webpack.NormalModuleReplacementPlugin(pattern, (resource) => {
    const issuer = resource.contextInfo?.issuer ?? "";
    if (issuer.replace(/\\/g, "/").endsWith(issuerSuffix)) resource.request = target;
  });
}

/** Writes dist/index.html linking the entry's scripts and styles. */
class IndexHtmlPlugin {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap("IndexHtmlPlugin", (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: "IndexHtmlPlugin", stage: webpack.Compilation.PROCESS_ASSETS_STAGE_SUMMARIZE },
        () => {
          const files = [...compilation.entrypoints.get("main").getFiles()];
          const css = files.filter((f) => f.endsWith(".css")).map((f) => `<link rel="stylesheet" href="${f}">`);
          const js = files.filter((f) => f.endsWith(".js")).map((f) => `<script type="module" src="${f}"></script>`);
          const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>VolMicro · Neuroglancer</title>
<style>html, body { height: 100%; margin: 0; overflow: hidden; background: #000; }</style>
${css.join("\n")}
</head>
<body>
${js.join("\n")}
</body>
</html>
`;
          compilation.emitAsset("index.html", new webpack.sources.RawSource(html));
        },
      );
    });
  }
}

/** Builds dist/wasm/decode-kernel.wasm from asm/ unless it is current (scripts/build-wasm.ts); the workers inline it. */
function buildWasmKernel() {
  execFileSync(process.execPath, ["--import", "tsx", resolve(root, "scripts/build-wasm.ts"), "--if-stale", "--quiet"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
}

export default (_env, argv) => {
  const production = argv.mode !== "development";
  buildWasmKernel();
  return {
    mode: production ? "production" : "development",
    context: root,
    entry: { main: resolve(viewer, "main.ts") },
    output: {
      path: resolve(root, "dist"),
      filename: production ? "[name].[contenthash:8].js" : "[name].js",
      chunkFilename: production ? "[name].[contenthash:8].js" : "[name].js",
      assetModuleFilename: "assets/[name].[contenthash:8][ext]",
      // dist/cli (the compiled CLI) and dist/wasm (the decode kernel) are build-cli's, not ours
      clean: { keep: /^(cli|wasm)(\/|$)/ },
    },
    devtool: production ? "source-map" : "eval-cheap-source-map",
    experiments: { css: true },
    performance: { hints: false },
    optimization: {
      splitChunks: {
        // The async-computation worker loads its split chunks one after another (importScripts), a
        // round trip each: four of them held a Gaussian store's first decode back by ~150 ms at
        // 25 Mbit/s (bench:store-profile). It starts when a layer's first chunk is requested, so
        // it is kept whole: one request. (The chunk worker starts with the page.)
        chunks: (chunk) => !chunk.canBeInitial() && chunk.name !== ASYNC_WORKER_CHUNK,
      },
    },
    resolve: {
      extensions: [".ts", ".js"],
      // Our TypeScript imports local files as `.js` (Node ESM style).
      extensionAlias: { ".js": [".ts", ".js"] },
      alias: {
        // ikonate 1.1.1 (the npm release) lacks three icons Neuroglancer 2.41 imports.
        "ikonate/icons/code-alt.svg": resolve(viewer, "icons/code-alt.svg"),
        "ikonate/icons/controls-alt.svg": resolve(viewer, "icons/controls-alt.svg"),
        "ikonate/icons/layers.svg": resolve(viewer, "icons/layers.svg"),
      },
    },
    module: {
      rules: [
        {
          test: /\.ts$/,
          include: resolve(root, "src"),
          loader: "ts-loader",
          // Types are checked by `npm run typecheck`; the bundle only needs transpiling.
          options: { transpileOnly: true, compilerOptions: { noEmit: false, sourceMap: true } },
        },
        // The WebAssembly decode kernel, inlined into the workers as a data URL (src/viewer/wasm-kernel.ts).
        { test: /decode-kernel\.wasm$/, type: "asset/inline" },
        // Icons (`.svg?raw`) and our WGSL (`.wgsl?raw`) come in as strings.
        { resourceQuery: /raw/, type: "asset/source" },
        // Auth redirect pages of the brainmaps and bossDB datasources.
        { test: /\.html$/, type: "asset/resource", generator: { filename: "[name][ext]" } },
      ],
    },
    plugins: [
      // Test hooks (src/viewer/test-hooks.ts and the worker's) exist only in development builds,
      // which the browser tests use; production code branches on this constant and webpack drops them.
      new webpack.DefinePlugin({ VOLMICRO_TEST_HOOKS: JSON.stringify(!production) }),
      redirectWorker("chunk_worker.bundle.js", "neuroglancer/lib/data_management_context.js", resolve(viewer, "chunk-worker.ts")),
      redirectWorker("async_computation.bundle.js", "neuroglancer/lib/async_computation/request.js", resolve(viewer, "async-worker.ts")),
      new IndexHtmlPlugin(),
    ],
  };
};

/**
 * Registers the `vmg://` scheme with Neuroglancer's default data source provider, and the
 * `volmicro.gaussians` codec with its zarr datasource (so `zarr://` opens a Gaussian store). Import it before
 * the Viewer is constructed: the viewer copies the provider list when it is built.
 */
import { registerProvider } from "neuroglancer/unstable/datasource/default_provider.js";
import type { DataSourceProvider } from "neuroglancer/unstable/datasource/index.js";
import { getVmgDataSource } from "./frontend.js";
import "./gaussian-codec-resolve.js";
import "./stats.js";
import "./store-failures.js";
import { VMG_SCHEME } from "./url.js";

export const vmgProvider: DataSourceProvider = {
  scheme: VMG_SCHEME,
  description: "VolMicro Gaussian volume (.vmg)",
  get: (options) => getVmgDataSource(options),
};

registerProvider(vmgProvider);

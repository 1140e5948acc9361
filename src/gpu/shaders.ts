/**
 * The WGSL of each pass, as handed to createShaderModule: the generated prelude (constants of
 * src/core and src/fit, then the structs the pass declares on the TypeScript side) followed by
 * the shader file with its `#include`s resolved.
 */
import { wgslConstants } from "../core/constants.js";
import { wgslMomentConstants } from "../fit/gradient.js";
import decodeSource from "../../shaders/decode.wgsl?raw";
import kernelSource from "../../shaders/kernel.wgsl?raw";
import momentsSource from "../../shaders/moments.wgsl?raw";
import { KERNEL_STRUCT } from "./gpu-kernels.js";
import { resolveIncludes } from "./wgsl-include.js";
import type { WgslStruct } from "./wgsl-struct.js";

const CHUNKS = { "kernel.wgsl": kernelSource };

function assemble(name: string, source: string, prelude: string, structs: readonly WgslStruct[]): string {
  return prelude + [KERNEL_STRUCT, ...structs].map((s) => s.wgsl).join("") + resolveIncludes(source, CHUNKS, name);
}

export function decodeShader(params: WgslStruct): string {
  return assemble("decode.wgsl", decodeSource, wgslConstants(), [params]);
}

export function momentsShader(params: WgslStruct): string {
  return assemble("moments.wgsl", momentsSource, wgslConstants() + wgslMomentConstants(), [params]);
}

/** Every contender of the rate-distortion report, in table order. */
import type { Codec } from "./codec.js";
import { coinCodec } from "./coin.js";
import { jpeg2000Codec } from "./jpeg2000.js";
import { jpegxlCodec } from "./jpegxl.js";
import { bloscCodec, zstdCodec } from "./lossless.js";
import { videoCodec } from "./video.js";
import { vmgCodec } from "./vmg.js";
import { zfpCodec } from "./zfp.js";

export interface CodecOptions {
  vmgIterations?: number;
  coinSteps?: number;
}

export function allCodecs(o: CodecOptions = {}): Codec[] {
  return [
    vmgCodec({ ...(o.vmgIterations !== undefined ? { iterations: o.vmgIterations } : {}), logEvery: 100 }),
    jpeg2000Codec("2d"),
    jpeg2000Codec("3d-dct"),
    videoCodec("hevc"),
    videoCodec("av1"),
    jpegxlCodec(),
    zfpCodec("rate"),
    zfpCodec("accuracy"),
    coinCodec(o.coinSteps !== undefined ? { steps: o.coinSteps } : {}),
    zstdCodec(),
    bloscCodec(),
  ];
}

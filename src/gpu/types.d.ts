/// <reference types="@webgpu/types" />
// Imports webpack serves as text (`asset/source`, see webpack.config.js).
declare module "*.wgsl?raw" {
  const source: string;
  export default source;
}

import type { Row } from "./rd-core.js";
export function writeReport(_rows: Row[], _out: string): void {}

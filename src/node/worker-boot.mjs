// Worker bootstrap: the project runs TypeScript through tsx, which worker threads do not inherit.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);

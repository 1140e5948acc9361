/**
 * The page entry: stock Neuroglancer (all its own datasources and layers) plus the `vmg://`
 * plugin, registered before the viewer is built.
 */
import "neuroglancer/unstable/main_module.js";
import "./register.js";
import "./tab/tab.js";
import { setupDefaultViewer } from "neuroglancer/unstable/ui/default_viewer_setup.js";
import { installVmgLayerDefaults } from "./layer-defaults.js";
import { installFileHolds } from "./file-holds.js";
import { installPageHooks } from "./page-hooks.js";
import { installVolMicroAction } from "./compress/action.js";
import { setTabViewer } from "./tab/context.js";

const viewer = setupDefaultViewer();
setTabViewer(viewer);
installVolMicroAction(viewer);
installVmgLayerDefaults(viewer);
installFileHolds(viewer);
// `if` on a build-time constant: production builds drop the branch and never bundle the test hooks.
if (VOLMICRO_TEST_HOOKS) void import("./test-hooks.js").then((t) => installPageHooks(viewer, t.testHooks(viewer)));
else installPageHooks(viewer);

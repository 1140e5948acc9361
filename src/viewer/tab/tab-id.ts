/** The id of the VolMicro layer tab (saved in layer states as `"tab": "volmicro"`). */
export const VOLMICRO_TAB_ID = "volmicro";

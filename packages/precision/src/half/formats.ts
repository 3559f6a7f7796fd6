// The half formats are core's (core owns rounding end to end); re-exported here, where precision users look.
export { bfloat16, float16 } from "@fulmen/core";

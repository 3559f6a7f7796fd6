/**
 * Loads TensorFlow.js the way Fulmen needs it: tfjs-core's Node entry registers no gradients and no chained ops,
 * so both are registered here once, and the pure-JS cpu backend is always present as the fallback engine.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";
import "@tensorflow/tfjs-backend-cpu";

// PROD silences tfjs's console banner about tfjs-node, which cannot be installed on these machines anyway.
tf.env().set("PROD", true);

export { tf };

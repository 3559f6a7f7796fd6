import protobuf from "protobufjs";

// The parts of TensorFlow's event.proto / summary.proto and TensorBoard's hparams plugin_data.proto that the
// logger writes, with their field numbers.
const descriptor = {
  nested: {
    Event: {
      fields: {
        wallTime: { type: "double", id: 1 },
        step: { type: "int64", id: 2 },
        fileVersion: { type: "string", id: 3 },
        summary: { type: "Summary", id: 5 },
      },
    },
    Summary: {
      fields: { value: { rule: "repeated", type: "SummaryValue", id: 1 } },
    },
    SummaryValue: {
      fields: {
        tag: { type: "string", id: 1 },
        simpleValue: { type: "float", id: 2 },
        metadata: { type: "SummaryMetadata", id: 9 },
      },
    },
    SummaryMetadata: {
      fields: { pluginData: { type: "PluginData", id: 1 } },
    },
    PluginData: {
      fields: { pluginName: { type: "string", id: 1 }, content: { type: "bytes", id: 2 } },
    },
    HParamsPluginData: {
      oneofs: { data: { oneof: ["experiment", "sessionStartInfo", "sessionEndInfo"] } },
      fields: {
        version: { type: "int32", id: 1 },
        experiment: { type: "Experiment", id: 2 },
        sessionStartInfo: { type: "SessionStartInfo", id: 3 },
        sessionEndInfo: { type: "SessionEndInfo", id: 4 },
      },
    },
    Experiment: {
      fields: {
        hparamInfos: { rule: "repeated", type: "HParamInfo", id: 4 },
        metricInfos: { rule: "repeated", type: "MetricInfo", id: 5 },
      },
    },
    HParamInfo: {
      fields: { name: { type: "string", id: 1 }, type: { type: "int32", id: 4 } },
    },
    MetricInfo: {
      fields: { name: { type: "MetricName", id: 1 } },
    },
    MetricName: {
      fields: { group: { type: "string", id: 1 }, tag: { type: "string", id: 2 } },
    },
    SessionStartInfo: {
      fields: {
        hparams: { keyType: "string", type: "Value", id: 1 },
        groupName: { type: "string", id: 4 },
        startTimeSecs: { type: "double", id: 5 },
      },
    },
    SessionEndInfo: {
      fields: { status: { type: "int32", id: 1 }, endTimeSecs: { type: "double", id: 2 } },
    },
    Value: {
      oneofs: { kind: { oneof: ["numberValue", "stringValue", "boolValue"] } },
      fields: {
        numberValue: { type: "double", id: 2 },
        stringValue: { type: "string", id: 3 },
        boolValue: { type: "bool", id: 4 },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);

/** The protobuf message types of TensorBoard event files. */
export const tensorboardTypes = {
  /** TensorFlow's `Event`: one record of an event file (wall time, step, and a file version or a summary). */
  Event: root.lookupType("Event"),
  /** The hparams plugin's `HParamsPluginData`: the summary content behind TensorBoard's HPARAMS tab. */
  HParamsPluginData: root.lookupType("HParamsPluginData"),
};

/** hparams DataType values (TensorBoard's api.proto). */
export const HPARAM_TYPE = { string: 1, bool: 2, float64: 3 } as const;
/** hparams Status values. */
export const SESSION_STATUS = { success: 1, failed: 2, aborted: 2 } as const;

export { CSVLogger, type CSVLoggerOptions } from "./csv-logger";
export { EventFileWriter, maskedCrc32c, tfRecord } from "./tensorboard/event-file-writer";
export { tensorboardTypes } from "./tensorboard/schema";
export { TensorBoardLogger, type TensorBoardLoggerOptions } from "./tensorboard/tensorboard-logger";

/**
 * The trainer sidecar's protocol (native-bin/spotter_trainer): the spec Node hands it, the
 * newline-delimited JSON events it prints on stdout (human logs go to stderr), the commands it reads
 * on stdin, and the environment report. Node validates every event with these schemas; the Python
 * side mirrors them in native-bin/spotter_trainer/protocol.py. Bump PROTOCOL on any change.
 */
import { z } from 'zod';

export const TRAINER_PROTOCOL = 1;

const Num = z.number();
const Metrics = z.record(z.string(), Num);

/** What `python -m spotter_trainer env` prints (one JSON object), and `hello` carries a part of. */
export const EnvReport = z.object({
  protocol: z.number().int(),
  python: z.string(),
  python_version: z.string(),
  platform: z.string(),
  torch: z.string().nullable(),
  torchvision: z.string().nullable(),
  cuda: z.string().nullable(),
  cuda_available: z.boolean(),
  mps_available: z.boolean(),
  gpus: z.array(z.object({ name: z.string(), memory_gb: Num })),
  driver: z.string().nullable(),
  ultralytics: z.string().nullable(),
  numpy: z.string().nullable(),
  onnx: z.string().nullable(),
  /** packages that are missing or fail to import, each with the error */
  missing: z.array(z.object({ package: z.string(), error: z.string() })),
});
export type EnvReport = z.infer<typeof EnvReport>;

/** The training spec: Ultralytics names for every field (`yolo train` arguments). */
export const TrainSpec = z.object({
  /** absolute path of data.yaml */
  data: z.string(),
  /** a model yaml (yolov8n.yaml, yolo11s.yaml, …) or a .pt path (fine-tune) */
  model: z.string(),
  /** the run folder: Ultralytics writes into it directly (project/name) */
  run_dir: z.string(),
  epochs: z.number().int().positive(),
  imgsz: z.number().int().positive(),
  batch: z.number(), // -1 = auto, 0..1 = memory fraction, >= 1 images
  device: z.string(), // 'cpu', '0', '0,1', 'mps'
  workers: z.number().int().min(0),
  patience: z.number().int().min(0).optional(),
  optimizer: z.string().optional(),
  lr0: Num.optional(),
  cos_lr: z.boolean().optional(),
  seed: z.number().int().optional(),
  cache: z.union([z.boolean(), z.enum(['ram', 'disk'])]).optional(),
  /** continue this run from weights/last.pt (Ultralytics resume) */
  resume: z.boolean().optional(),
  /** every other Ultralytics train argument (augmentation: mosaic, degrees, flipud, …) */
  extra: z.record(z.string(), z.union([Num, z.string(), z.boolean(), z.null()])).default({}),
  /** seconds between `batch` events (throttle) */
  batch_event_interval: Num.default(0.5),
});
export type TrainSpec = z.input<typeof TrainSpec>;

export const ErrorCode = z.enum([
  'cuda-oom',
  'dataset-not-found',
  'corrupt-weights',
  'abi-mismatch',
  'no-gpu',
  'missing-package',
  'bad-spec',
  'unknown',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** One export format as `formats` reports it (the contract's ExportFormatInfo). */
export const ExportFormatInfo = z.object({
  format: z.string(),
  label: z.string(),
  available: z.boolean(),
  /** pip requirements missing from the trainer environment (`name`, or `name<spec> (installed X)`) */
  missing: z.array(z.string()),
  /** why it cannot be built on this machine at all (OS, no GPU, a conflict with the trainer's torch) */
  blocked: z.string().nullable(),
  options: z.array(z.enum(['imgsz', 'half', 'int8', 'dynamic', 'simplify', 'nms'])),
});

export const TrainerEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocol: z.number().int(), pid: z.number().int(), command: z.string() }),
  /** before training: loading the model, scanning the dataset, … */
  z.object({ type: z.literal('setup'), stage: z.string(), message: z.string() }),
  z.object({
    type: z.literal('train_start'),
    run_dir: z.string(),
    epochs: z.number().int(),
    start_epoch: z.number().int(), // 0-based: > 0 on resume
    batches: z.number().int(), // per epoch
    device: z.string(),
    imgsz: z.number().int(),
    batch: z.number().int(),
  }),
  z.object({ type: z.literal('epoch_start'), epoch: z.number().int(), epochs: z.number().int() }), // 1-based
  z.object({
    type: z.literal('batch'),
    epoch: z.number().int(),
    batch: z.number().int(), // 1-based, within the epoch
    batches: z.number().int(),
    losses: Metrics,
    gpu_mem_gb: Num.nullable(),
  }),
  z.object({
    type: z.literal('epoch_end'),
    epoch: z.number().int(),
    epochs: z.number().int(),
    /** mean train losses of the epoch, e.g. {box_loss, cls_loss, dfl_loss} */
    losses: Metrics,
    lr: Metrics,
    seconds: Num,
    gpu_mem_gb: Num.nullable(),
  }),
  /** validation after an epoch: Ultralytics' metric names (metrics/mAP50-95(B), …) and fitness */
  z.object({ type: z.literal('val'), epoch: z.number().int(), metrics: Metrics, fitness: Num.nullable() }),
  z.object({ type: z.literal('checkpoint'), epoch: z.number().int(), last: z.string(), best: z.string().nullable(), is_best: z.boolean() }),
  z.object({
    type: z.literal('done'),
    run_dir: z.string(),
    epochs_completed: z.number().int(),
    stopped: z.boolean(), // stopped early on request (or by patience)
    best: z.string().nullable(),
    last: z.string().nullable(),
    /** final validation of best.pt */
    metrics: Metrics,
    per_class: z.array(z.object({ name: z.string(), images: z.number().int(), instances: z.number().int(), p: Num, r: Num, ap50: Num, ap50_95: Num })),
    seconds: Num,
  }),
  /** export: the sidecar starts building (`format`: Spotter's key, e.g. tflite; `weights`: the .pt it exports) */
  z.object({ type: z.literal('export_start'), format: z.string(), weights: z.string() }),
  z.object({ type: z.literal('export_done'), format: z.string(), path: z.string() }),
  /** `formats`: every export format and whether this machine can build it now */
  z.object({ type: z.literal('formats'), formats: z.array(ExportFormatInfo) }),
  z.object({ type: z.literal('error'), code: ErrorCode, message: z.string(), hint: z.string().nullable() }),
]);
export type TrainerEvent = z.infer<typeof TrainerEvent>;

/** Commands Node writes to the sidecar's stdin, one JSON object per line. */
export const TrainerCommand = z.discriminatedUnion('cmd', [z.object({ cmd: z.literal('stop') })]);
export type TrainerCommand = z.infer<typeof TrainerCommand>;

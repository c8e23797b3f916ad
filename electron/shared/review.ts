/**
 * Types of predictions, the review gallery, labelling batches, model export and deployment (the
 * contract's review.* and models.* calls). Plain interfaces: the core, the CLI and the renderer share them.
 */
import type { PerClassMetrics, RunMetrics } from './contract.js';

export type ModelTask = 'detect' | 'segment';

/** Box corners in the original image's pixels: x1, y1, x2, y2. */
export type Box = [number, number, number, number];

/** What Spotter read from an ONNX model (its Ultralytics metadata and its output shapes). */
export interface ModelInfo {
  /** the .onnx file, absolute */
  path: string;
  task: ModelTask;
  /** network input, [height, width] */
  imgsz: [number, number];
  stride: number;
  /** class names by class id */
  names: string[];
  /** `yolo`: 1 × (4+nc[+nm]) × N, NMS in Spotter; `end2end`: 1 × N × 6(+nm), boxes already final (YOLO26, exports with nms) */
  layout: 'yolo' | 'end2end';
  /** the model card beside the file (`<stem>.card.json`), when there is one */
  card: ModelCard | null;
}

export interface Detection {
  classId: number;
  /** the model's class name */
  class: string;
  score: number;
  box: Box;
  /** segmentation models: the instance's outline, flat [x, y, …] in original pixels */
  polygon?: number[];
}

/** One image's predictions (the CLI's `--json` entry, in original pixels). */
export interface ImagePrediction {
  file: string;
  width: number;
  height: number;
  detections: Detection[];
}

/** Per-class confidence thresholds: the operating point that ships with the weights. */
export interface Thresholds {
  /** used for every class without its own */
  default: number;
  /** class name → threshold */
  perClass: Record<string, number>;
  /** NMS IoU */
  iou: number;
}

/** `<stem>.card.json` beside an ONNX model (a Markdown twin `<stem>.card.md` for people). */
export interface ModelCard {
  schema: 1;
  /** model name (deployed models: `<name>_v<version>`) */
  name: string;
  version: number | null;
  /** the model file's name, beside the card */
  file: string;
  format: string;
  task: ModelTask;
  imgsz: [number, number];
  names: string[];
  thresholds: Thresholds;
  /** validation metrics of the run it came from */
  metrics: RunMetrics | null;
  perClass: PerClassMetrics[];
  /** the run it came from (null for a model from elsewhere) */
  run: { dir: string; name: string; label: string; dataset: string; datasetHash: string | null } | null;
  createdAt: string;
  updatedAt: string;
}

// ---------------------------------------------------------------- review

/** What predictions are made on: a dataset split, or any folder of images. */
export interface ReviewSource {
  /** the .onnx model */
  model: string;
  /** an imported dataset folder (with ground truth) … */
  dataset?: string;
  /** … and its split ('all': every split) */
  split?: 'train' | 'val' | 'test' | 'all';
  /** … or a folder of images (no ground truth: everything is 'unlabelled') */
  folder?: string;
}

export interface ReviewBox {
  /** index into ReviewSet.classes */
  cls: number;
  box: Box;
}

export interface ReviewPrediction extends ReviewBox {
  score: number;
}

export interface ReviewImage {
  /** display name (relative to the dataset's images/ or the folder) */
  file: string;
  /** absolute path (for /api/file and /api/thumb) */
  path: string;
  width: number;
  height: number;
  /** ground truth; null when the source has no labels */
  gt: ReviewBox[] | null;
  /** predictions down to ReviewSet.confFloor, best score first */
  pred: ReviewPrediction[];
}

/** A model's cached predictions on a source, with ground truth, ready for matching in the UI. */
export interface ReviewSet {
  /** cache key (model file + its mtime/size, source, conf floor) */
  key: string;
  source: ReviewSource;
  model: ModelInfo;
  /** the dataset's classes first, then the model's classes the dataset lacks */
  classes: string[];
  /** how many of `classes` are the dataset's (ground truth can only use those) */
  datasetClasses: number;
  confFloor: number;
  iou: number;
  images: ReviewImage[];
  /**
   * Dataset sources: per image (parallel to `images`), whether it is a val/test image with a twin in train (a
   * near-duplicate, identical file, group member or neighbouring frame there) by the dataset's leak audit. The gallery
   * shows the metrics with and without those images: the leak's price.
   */
  twinInTrain?: boolean[];
  createdAt: string;
  /** inference time, whole job */
  seconds: number;
}

/**
 * One image of a ReviewSet in its compact form (the prediction cache's lines and review.get's
 * answer): `[file, path, width, height, gt, pred]`, ground truth flat `[cls, x1, y1, w, h, …]`
 * (null: no labels), predictions flat `[cls, x1, y1, w, h, score, …]`, best score first; box values
 * are integers in 1/10000 px (ground truth) and 1/1000 px (predictions). See review-codec.ts.
 */
export type CompactImage = [file: string, path: string, width: number, height: number, gt: number[] | null, pred: number[]];

/** A ReviewSet as review.get sends it: the images compact (decodeReviewSet turns it back into a ReviewSet). */
export interface ReviewSetWire extends Omit<ReviewSet, 'images'> {
  encoding: 'compact-1';
  images: CompactImage[];
}

/** What the 'predict' job returns (the set itself is fetched with review.get). */
export interface ReviewSetSummary {
  key: string;
  images: number;
  predictions: number;
  seconds: number;
  /** true when the cache answered */
  cached: boolean;
}

/** A model the gallery can use: run exports and deployed models. */
export interface ModelListItem {
  path: string;
  /** 'run': an export inside a run folder; 'deployed': workspace models/ */
  origin: 'run' | 'deployed';
  name: string;
  run: string | null;
  card: ModelCard | null;
  modifiedAt: string;
}

// ---------------------------------------------------------------- labelling batches

export interface BatchSelection {
  /** uncertain: a prediction's score within [low, high]; disagree: FP or FN at `conf`/`perClass` and `iou`; unlabelled: no ground truth */
  mode: 'uncertain' | 'disagree' | 'unlabelled';
  low?: number;
  high?: number;
  /** the confidence of every class without its own threshold */
  conf?: number;
  /**
   * class name → its own threshold (what the gallery has on screen). Absent: the model card's saved
   * per-class thresholds. Used by 'disagree' and by the pre-annotation filter of the written batch.
   */
  perClass?: Record<string, number>;
  iou?: number;
  /** at most this many images, most uncertain / most errors first */
  limit?: number;
}

export interface BatchResult {
  /** the batch folder: images/, the annotation file(s), README.md */
  dir: string;
  /** files to upload to CVAT (the COCO 1.0 zip or the CVAT 1.1 XML) */
  annotations: string;
  images: number;
  boxes: number;
}

// ---------------------------------------------------------------- export and deployment

export interface ExportFormatInfo {
  /** Ultralytics' format key: onnx, torchscript, openvino, tflite, ncnn, coreml, engine, rknn */
  format: string;
  label: string;
  /** can be built on this machine now */
  available: boolean;
  /** Python packages missing from the trainer environment (installable on demand) */
  missing: string[];
  /** why it cannot be built here at all (wrong OS, no GPU), when that is the case */
  blocked: string | null;
  /** the options that apply to this format */
  options: Array<'imgsz' | 'half' | 'int8' | 'dynamic' | 'simplify' | 'nms'>;
}

export interface ExportResult {
  /** the exported file or folder */
  path: string;
  format: string;
  seconds: number;
  bytes: number;
}

export interface DeployedModel {
  /** workspace models/<name>_v<version>.<ext> */
  path: string;
  name: string;
  version: number;
  format: string;
  card: ModelCard;
}

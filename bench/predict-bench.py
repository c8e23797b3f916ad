# Ultralytics' side of the predict benchmark: YOLO(model.onnx).predict one image at a time on the CPU, after a
# warm-up; images/s end to end and the share of pre-, inference and post-processing (Results.speed).
import json, sys, time
from ultralytics import YOLO

model, files = sys.argv[1], sys.argv[2:]
m = YOLO(model)
m.predict(files[0], conf=0.25, iou=0.7, verbose=False, device='cpu')
pre = inf = post = 0.0
dets = 0
t0 = time.perf_counter()
for f in files:
    r = m.predict(f, conf=0.25, iou=0.7, verbose=False, device='cpu')[0]
    pre += r.speed['preprocess']; inf += r.speed['inference']; post += r.speed['postprocess']
    dets += len(r.boxes)
seconds = time.perf_counter() - t0
total = pre + inf + post or 1
print('@@' + json.dumps({'images': len(files), 'detections': dets, 'seconds': seconds, 'images_per_s': len(files) / seconds,
                         'share': {'pre': pre / total, 'infer': inf / total, 'post': post / total}}))

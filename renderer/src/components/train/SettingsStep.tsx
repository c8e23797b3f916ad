import { useState } from 'react';
import { Button, Collapse, Group, NumberInput, SegmentedControl, Select, SimpleGrid, Stack, Switch, Text, Title } from '@mantine/core';
import { useSpotter } from '../../state/react';
import {
  AUG_DEFAULTS,
  AUG_KEYS,
  AUG_PRESETS,
  IMGSZ_CHOICES,
  OPTIMIZERS,
  selectForm,
  selectTrainerEnv,
  type AugKey,
  type AugPresetName,
  type WizardForm,
} from '../../state/train';

/** What each augmentation field does, in Ultralytics' words (shortened). */
const AUG_HELP: Record<AugKey, string> = {
  hsv_h: 'hue jitter (fraction)',
  hsv_s: 'saturation jitter (fraction)',
  hsv_v: 'brightness jitter (fraction)',
  degrees: 'rotation ± degrees',
  translate: 'translation ± fraction',
  scale: 'scale gain ±',
  shear: 'shear ± degrees',
  perspective: 'perspective (0–0.001)',
  flipud: 'vertical flip probability',
  fliplr: 'horizontal flip probability',
  bgr: 'RGB↔BGR swap probability',
  mosaic: 'mosaic probability',
  mixup: 'MixUp probability',
  cutmix: 'CutMix probability',
  copy_paste: 'copy-paste (segmentation only)',
  close_mosaic: 'no mosaic in the last N epochs',
};

const num = (v: string | number, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

export function SettingsStep() {
  const form = useSpotter(selectForm);
  const setForm = useSpotter((s) => s.setForm);
  const env = useSpotter(selectTrainerEnv);
  const gpus = env?.env?.gpus ?? [];
  const devices = [
    { value: 'auto', label: 'auto (GPU if there is one)' },
    { value: 'cpu', label: 'cpu' },
    ...(gpus.length ? gpus.map((g, i) => ({ value: String(i), label: `${i}: ${g.name}` })) : [{ value: '0', label: '0 (first GPU)' }]),
    ...(gpus.length > 1 ? [{ value: gpus.map((_, i) => i).join(','), label: `all ${gpus.length} GPUs` }] : []),
    ...(env?.env?.mps_available ? [{ value: 'mps', label: 'mps (Apple)' }] : []),
  ];
  if (!devices.some((d) => d.value === form.device)) devices.push({ value: form.device, label: form.device });
  const imgszPreset = (IMGSZ_CHOICES as readonly number[]).includes(form.imgsz) ? String(form.imgsz) : 'other';

  return (
    <Stack gap="md">
      <Stack gap="xs">
        <Title order={5}>Training</Title>
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="sm" verticalSpacing="xs">
          <div>
            <NumberInput
              label="imgsz"
              description="training image size (pixels)"
              value={form.imgsz}
              min={32}
              max={4096}
              step={32}
              allowDecimal={false}
              onChange={(v) => setForm({ imgsz: num(v, form.imgsz) })}
              data-testid="imgsz-input"
            />
            <SegmentedControl
              mt={6}
              size="xs"
              fullWidth
              value={imgszPreset}
              onChange={(v) => v !== 'other' && setForm({ imgsz: Number(v) })}
              data={[...IMGSZ_CHOICES.map((n) => ({ value: String(n), label: String(n) })), { value: 'other', label: 'other', disabled: true }]}
              data-testid="imgsz-choice"
            />
          </div>
          <NumberInput
            label="batch"
            description="-1 = auto (8 on the CPU)"
            value={form.batch}
            min={-1}
            allowDecimal={false}
            onChange={(v) => setForm({ batch: num(v, -1) === 0 ? -1 : num(v, -1) })}
            data-testid="batch-input"
          />
          <Select label="device" description="where to train" data={devices} value={form.device} onChange={(v) => v && setForm({ device: v })} allowDeselect={false} data-testid="device-select" />
          <NumberInput label="workers" description="data loader processes" value={form.workers} min={0} max={64} allowDecimal={false} onChange={(v) => setForm({ workers: num(v, 0) })} data-testid="workers-input" />
          <NumberInput label="epochs" description="passes over the training split" value={form.epochs} min={1} allowDecimal={false} onChange={(v) => setForm({ epochs: Math.max(1, num(v, 1)) })} data-testid="epochs-input" />
          <NumberInput
            label="patience"
            description="stop after N epochs without improvement"
            placeholder="100 (Ultralytics default)"
            value={form.patience ?? ''}
            min={0}
            allowDecimal={false}
            onChange={(v) => setForm({ patience: typeof v === 'number' ? v : null })}
          />
          <Select label="optimizer" description="auto picks SGD or AdamW" data={[...OPTIMIZERS]} value={form.optimizer} onChange={(v) => v && setForm({ optimizer: v })} allowDeselect={false} />
          <NumberInput
            label="lr0"
            description="initial learning rate"
            placeholder="default (set by the optimizer)"
            value={form.lr0 ?? ''}
            min={0}
            step={0.001}
            decimalScale={6}
            onChange={(v) => setForm({ lr0: typeof v === 'number' && v > 0 ? v : null })}
          />
          <NumberInput label="seed" description="for reproducible runs" value={form.seed} allowDecimal={false} onChange={(v) => setForm({ seed: num(v, 0) })} />
          <div>
            <Text size="sm" fw={500}>
              cache
            </Text>
            <Text size="xs" c="dimmed" mb={4}>
              keep decoded images in RAM or on disk
            </Text>
            <SegmentedControl
              size="xs"
              fullWidth
              value={form.cache}
              onChange={(v) => setForm({ cache: v as WizardForm['cache'] })}
              data={[
                { value: 'off', label: 'off' },
                { value: 'ram', label: 'RAM' },
                { value: 'disk', label: 'disk' },
              ]}
            />
          </div>
          <Stack gap="xs" mt="md">
            <Switch label="cos_lr" description="cosine learning-rate schedule" checked={form.cos_lr} onChange={(e) => setForm({ cos_lr: e.currentTarget.checked })} />
            <Switch
              label="TensorBoard"
              description="Ultralytics' local logging into the run folder"
              checked={form.tensorboard}
              onChange={(e) => setForm({ tensorboard: e.currentTarget.checked })}
              data-testid="tensorboard"
            />
          </Stack>
        </SimpleGrid>
      </Stack>
      <Augmentation />
    </Stack>
  );
}

function Augmentation() {
  const form = useSpotter(selectForm);
  const setAug = useSpotter((s) => s.setAug);
  const applyAugPreset = useSpotter((s) => s.applyAugPreset);
  const [all, setAll] = useState(false);
  const changed = AUG_KEYS.filter((k) => form.aug[k] !== AUG_DEFAULTS[k]);
  const presets = Object.entries(AUG_PRESETS) as Array<[Exclude<AugPresetName, 'custom'>, (typeof AUG_PRESETS)[keyof typeof AUG_PRESETS]]>;
  return (
    <Stack gap="xs">
      <Title order={5}>Augmentation</Title>
      <Group gap="sm" align="center">
        <SegmentedControl
          value={form.augPreset}
          onChange={(v) => v !== 'custom' && applyAugPreset(v as Exclude<AugPresetName, 'custom'>)}
          data={[...presets.map(([value, p]) => ({ value, label: p.label })), { value: 'custom', label: 'Custom', disabled: form.augPreset !== 'custom' }]}
          data-testid="aug-preset"
        />
        <Text size="sm" c="dimmed">
          {form.augPreset === 'custom' ? 'edited by hand' : AUG_PRESETS[form.augPreset].description}
        </Text>
      </Group>
      <Text size="sm" c="dimmed">
        {changed.length ? `Changed from Ultralytics' defaults: ${changed.map((k) => `${k}=${form.aug[k]}`).join(', ')}` : "All at Ultralytics' defaults."}
      </Text>
      <Group gap="xs">
        <Button variant="subtle" size="compact-sm" onClick={() => setAll((a) => !a)} data-testid="aug-all-toggle">
          {all ? 'Hide' : 'Show'} all Ultralytics augmentation fields
        </Button>
      </Group>
      <Collapse in={all}>
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm" verticalSpacing="xs" data-testid="aug-fields">
          {AUG_KEYS.map((k) => (
            <NumberInput
              key={k}
              label={k}
              description={AUG_HELP[k]}
              value={form.aug[k]}
              min={0}
              step={k === 'degrees' || k === 'shear' ? 5 : k === 'close_mosaic' ? 1 : 0.05}
              decimalScale={k === 'close_mosaic' ? 0 : 4}
              onChange={(v) => setAug(k, num(v, AUG_DEFAULTS[k]))}
              size="xs"
              styles={form.aug[k] !== AUG_DEFAULTS[k] ? { input: { borderColor: 'var(--mantine-color-blue-filled)' } } : undefined}
              data-testid={`aug-${k}`}
            />
          ))}
        </SimpleGrid>
      </Collapse>
    </Stack>
  );
}

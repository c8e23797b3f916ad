import { useState } from 'react';
import { Alert, Button, Group, Modal, Paper, Stack, Stepper, Text } from '@mantine/core';
import { useSpotter } from '../../state/react';
import {
  selectEstimate,
  selectStartBlocker,
  selectSweepForm,
  sweepGridOf,
  selectTrainError,
  selectTrainStarting,
  selectWizardStep,
  WIZARD_STEPS,
} from '../../state/train';
import { formatDuration } from './format';
import { useCurrentEstimate } from './hooks';
import { DatasetStep, ModelStep, PresetStep } from './WizardSteps';
import { SettingsStep } from './SettingsStep';
import { ReviewStep } from './ReviewStep';
import { IconAlert } from '../icons';

const STEP_LABEL: Record<(typeof WIZARD_STEPS)[number], { label: string; description: string }> = {
  dataset: { label: 'Dataset', description: 'what to train on' },
  model: { label: 'Model', description: 'architecture or weights' },
  preset: { label: 'Preset', description: 'how long' },
  settings: { label: 'Settings', description: 'imgsz, batch, augmentation' },
  review: { label: 'Review', description: 'command and estimate' },
};

/**
 * The training wizard: every step can be visited in any order, and Start (in the footer, on every
 * step) works with the defaults. Before starting, the duration estimate is fetched; runs over an hour
 * or on the CPU only ask for confirmation.
 */
export function Wizard() {
  const step = useSpotter(selectWizardStep);
  const setStep = useSpotter((s) => s.setWizardStep);
  const blocker = useSpotter(selectStartBlocker);
  const starting = useSpotter(selectTrainStarting);
  const error = useSpotter(selectTrainError);
  const estimate = useSpotter(selectEstimate);
  const loadEstimate = useSpotter((s) => s.loadEstimate);
  const startTraining = useSpotter((s) => s.startTraining);
  const startSweep = useSpotter((s) => s.startSweep);
  const sweepForm = useSpotter(selectSweepForm);
  const sweepGrid = sweepForm.enabled ? sweepGridOf(sweepForm) : null;
  const sweepRuns = sweepGrid && 'runs' in sweepGrid ? sweepGrid.runs : null;
  const start = () => (sweepForm.enabled ? startSweep() : startTraining());
  const [confirm, setConfirm] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const last = WIZARD_STEPS.length - 1;
  const est = useCurrentEstimate(estimate);

  const onStart = async () => {
    setChecking(true);
    try {
      const est = await loadEstimate();
      if (est?.confirm) {
        setConfirm(sweepRuns ? `A sweep of ${sweepRuns} runs; each: ${est.confirm}` : est.confirm);
        return;
      }
    } finally {
      setChecking(false);
    }
    await start();
  };

  return (
    <Paper withBorder p="md" radius="md" data-testid="train-wizard">
      <Stack gap="md">
        <Stepper active={step} onStepClick={setStep} size="sm" allowNextStepsSelect>
          {WIZARD_STEPS.map((name) => (
            <Stepper.Step key={name} label={STEP_LABEL[name].label} description={STEP_LABEL[name].description} data-testid={`step-${name}`} />
          ))}
        </Stepper>
        <div data-testid="wizard-step" data-step={WIZARD_STEPS[step]}>
          {step === 0 && <DatasetStep />}
          {step === 1 && <ModelStep />}
          {step === 2 && <PresetStep />}
          {step === 3 && <SettingsStep />}
          {step === 4 && <ReviewStep />}
        </div>
        {error && (
          <Alert color="red" variant="light" icon={<IconAlert />} title="The run did not start" data-testid="train-error">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
              {error}
            </Text>
          </Alert>
        )}
        <Group justify="space-between" wrap="nowrap">
          <Text size="sm" c={blocker ? 'dimmed' : undefined} data-testid="start-blocker">
            {blocker ?? (est ? `Ready · about ${formatDuration(est.seconds)}` : 'Ready to start with these settings.')}
          </Text>
          <Group gap="xs" wrap="nowrap">
            <Button variant="default" onClick={() => setStep(step - 1)} disabled={step === 0}>
              Back
            </Button>
            <Button variant="default" onClick={() => setStep(step + 1)} disabled={step === last} data-testid="wizard-next">
              Next
            </Button>
            <Button onClick={() => void onStart()} disabled={!!blocker || (sweepForm.enabled && !sweepRuns)} loading={starting || checking} data-testid="train-start">
              {sweepForm.enabled ? `Start sweep${sweepRuns ? ` (${sweepRuns} runs)` : ''}` : 'Start training'}
            </Button>
          </Group>
        </Group>
      </Stack>
      <Modal opened={confirm !== null} onClose={() => setConfirm(null)} title="Start this run?" centered data-testid="train-confirm-modal">
        <Stack gap="md">
          <Text size="sm">{confirm}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirm(null)}>
              Cancel
            </Button>
            <Button
              onClick={() => {
                setConfirm(null);
                void start();
              }}
              data-testid="train-confirm"
            >
              Start anyway
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}


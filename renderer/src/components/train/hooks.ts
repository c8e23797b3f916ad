import { useMemo } from 'react';
import type { RunEstimate } from '../../../../electron/shared/contract';
import { useSpotter } from '../../state/react';
import { selectDatasets } from '../../state/app';
import { selectForm, trainRequestOf, type TrainSlice } from '../../state/train';

/** The estimate when it was made for the wizard's current request (null when stale or missing). */
export function useCurrentEstimate(estimate: TrainSlice['estimate']): RunEstimate | null {
  const form = useSpotter(selectForm);
  const datasets = useSpotter(selectDatasets);
  const key = useMemo(() => {
    const req = trainRequestOf(form, datasets?.find((d) => d.dir === form.dataset)?.task);
    return req ? JSON.stringify(req) : null;
  }, [form, datasets]);
  return estimate && estimate.key === key ? estimate.value : null;
}

/** Navbar icons of the training pages, drawn with components/icons.tsx's `Icon` (24x24 line, currentColor). */
import { Icon, type IconProps } from '../icons';

/** a play triangle over a baseline: start training */
export const IconTrain = (p: IconProps) => (
  <Icon {...p}>
    <path d="M8 5l10 6-10 6z" />
    <path d="M4 21h16" />
  </Icon>
);

/** a rising curve on axes: runs and their metrics */
export const IconRuns = (p: IconProps) => (
  <Icon {...p}>
    <path d="M4 4v16h16" />
    <path d="M7 15l4-4 3 3 5-6" />
  </Icon>
);

/** Icons of the review gallery, drawn with components/icons.tsx's `Icon` (24x24 line, currentColor). */
import { Icon, type IconProps } from '../icons';

/** a box around a target with a check: reviewing predictions */
export const IconReview = (p: IconProps) => (
  <Icon {...p}>
    <path d="M4 8V4h4M16 4h4v4M20 16v4h-4M8 20H4v-4" />
    <path d="M8.5 12.5l2.5 2.5 4.5-5" />
  </Icon>
);

/** Navbar icons of the training pages, in the style of components/icons.tsx (24x24 line, currentColor). */
import type { SVGProps } from 'react';

type IconProps = SVGProps<SVGSVGElement> & { size?: number };

function Icon({ size = 18, children, ...rest }: IconProps) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" {...rest}>
      {children}
    </svg>
  );
}

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

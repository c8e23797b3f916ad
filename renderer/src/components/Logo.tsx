/** The Spotter mark (same drawing as resources/icons/icon.svg): a viewfinder over a detection box. */
export function Logo({ size = 26 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-label="Spotter">
      <rect x="2" y="2" width="60" height="60" rx="14" fill="#1c7ed6" />
      <path d="M14 24v-10h10M40 14h10v10M50 40v10H40M24 50H14V40" fill="none" stroke="#fff" strokeWidth="5" strokeLinecap="round" strokeLinejoin="round" />
      <rect x="23" y="23" width="18" height="18" rx="2" fill="none" stroke="#ffd43b" strokeWidth="4" />
    </svg>
  );
}

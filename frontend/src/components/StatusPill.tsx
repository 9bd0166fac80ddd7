import type { ReactNode } from 'react';

export type Tone = 'success' | 'warning' | 'danger' | 'neutral';

/** A coloured label; the text carries the meaning, the colour only repeats it. */
export function StatusPill({ tone, children }: { tone: Tone; children: ReactNode }) {
  return (
    <span className={`status-pill status-pill--${tone}`} data-tone={tone}>
      <span className="status-pill__dot" aria-hidden="true" />
      {children}
    </span>
  );
}

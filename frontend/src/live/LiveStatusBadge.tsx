import { useLive } from './LiveProvider';

const LABELS = { open: 'Live', connecting: 'Connecting…', down: 'Offline: refreshing every few seconds' } as const;

/** Whether pages update live or fall back to polling, for people and screen readers. */
export function LiveStatusBadge() {
  const { status } = useLive();
  return (
    <p className={`live-status live-status--${status}`} role="status" aria-live="polite">
      <span className="live-status__dot" aria-hidden="true" />
      {LABELS[status]}
    </p>
  );
}

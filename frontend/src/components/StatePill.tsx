import type { StateType } from '../api/types';
import { StatusPill, type Tone } from './StatusPill';

const TONES: Record<StateType, Tone> = {
  SCHEDULED: 'neutral',
  PENDING: 'neutral',
  RUNNING: 'warning',
  PAUSED: 'warning',
  CANCELLING: 'warning',
  COMPLETED: 'success',
  FAILED: 'danger',
  CANCELLED: 'neutral',
  CRASHED: 'danger',
};

/** A run's state: the name ("Late", "AwaitingRetry") with its type's colour. */
export function StatePill({ type, name }: { type: StateType; name?: string }) {
  return <StatusPill tone={TONES[type] ?? 'neutral'}>{name || type}</StatusPill>;
}

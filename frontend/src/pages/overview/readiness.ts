import type { Tone } from '../../components/StatusPill';
import type { ReadinessCheckValue } from '../../api/system';

export interface CheckPresentation {
  tone: Tone;
  label: string;
  /** The reason after "error: ", when the check failed. */
  reason?: string;
}

export function presentCheck(value: ReadinessCheckValue): CheckPresentation {
  if (value === 'ok') return { tone: 'success', label: 'OK' };
  if (value === 'not configured') return { tone: 'neutral', label: 'Not configured' };
  if (value.startsWith('error')) {
    const reason = value.replace(/^error:?\s*/, '');
    return reason ? { tone: 'danger', label: 'Error', reason } : { tone: 'danger', label: 'Error' };
  }
  return { tone: 'warning', label: value };
}

const CHECK_NAMES: Record<string, string> = {
  database: 'Database',
  redis: 'Redis',
};

export function checkName(key: string): string {
  return CHECK_NAMES[key] ?? key;
}

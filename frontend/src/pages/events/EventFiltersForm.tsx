import { useState, type FormEvent } from 'react';
import { Button } from '../../components/Button';
import { Field } from '../../components/Field';
import { Select } from '../automations/controls';
import { RANGE_LABELS, type EventFilters, type TimeRange } from './eventFeed';

/** The feed's filters, applied together on submit so typing does not fetch on every key. */
export function EventFiltersForm({ filters, onApply }: { filters: EventFilters; onApply: (filters: EventFilters) => void }) {
  const [draft, setDraft] = useState<EventFilters>(filters);

  function set<K extends keyof EventFilters>(key: K, value: EventFilters[K]) {
    setDraft((current) => ({ ...current, [key]: value }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    onApply(draft);
  }

  return (
    <form className="filters" onSubmit={submit} aria-label="Event filters">
      <div className="filters__row">
        <Field
          label="Event name"
          value={draft.name}
          onChange={(e) => set('name', e.target.value)}
          placeholder="tether.flow-run"
          hint="A prefix, or a pattern with *."
        />
        <Field
          label="Resource id"
          value={draft.resourceId}
          onChange={(e) => set('resourceId', e.target.value)}
          placeholder="tether.flow-run.*"
          hint="An id, or a pattern with *."
        />
        <Select label="Time range" value={draft.range} onChange={(value) => set('range', value as TimeRange)}>
          {Object.entries(RANGE_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </Select>
        {draft.range === 'custom' && (
          <>
            <Field label="From" type="datetime-local" value={draft.from} onChange={(e) => set('from', e.target.value)} />
            <Field label="Until" type="datetime-local" value={draft.until} onChange={(e) => set('until', e.target.value)} />
          </>
        )}
        <div className="field">
          <Button type="submit" variant="primary">
            Apply filters
          </Button>
        </div>
      </div>
    </form>
  );
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useDeferredValue, useId, useState, type FormEvent } from 'react';
import { createSchedule, fetchSchedules, previewSchedule, setScheduleActive } from '../../api/deployments';
import type { Schedule, ScheduleRequest } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { formatDateTime } from '../../format/time';
import { useWorkspaceRef } from '../../workspace/workspace';

type Kind = ScheduleRequest['kind'];

export function describeSchedule(schedule: Pick<Schedule, 'kind' | 'cron' | 'interval_seconds' | 'rrule' | 'timezone'>): string {
  switch (schedule.kind) {
    case 'cron':
      return `cron ${schedule.cron ?? ''} (${schedule.timezone})`;
    case 'interval':
      return `every ${schedule.interval_seconds ?? 0} s (${schedule.timezone})`;
    case 'rrule':
      return `${schedule.rrule ?? ''} (${schedule.timezone})`;
  }
}

export function SchedulesCard({ deploymentId }: { deploymentId: string }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const schedules = useQuery({
    queryKey: ['schedules', ref, deploymentId],
    queryFn: () => fetchSchedules(ref, deploymentId),
  });
  const toggle = useMutation({
    mutationFn: (schedule: Schedule) => setScheduleActive(ref, deploymentId, schedule, !schedule.active),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['schedules', ref, deploymentId] }),
  });

  return (
    <Card title="Schedules">
      {schedules.isError && <ErrorNotice title="Could not load schedules" error={schedules.error} />}
      {schedules.data && schedules.data.results.length === 0 && <p className="muted">No schedules.</p>}
      {schedules.data && schedules.data.results.length > 0 && (
        <ul className="plain-list" aria-label="Schedules">
          {schedules.data.results.map((schedule) => (
            <li key={schedule.id} className="row-between">
              <span>{describeSchedule(schedule)}</span>
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={schedule.active !== false}
                  onChange={() => toggle.mutate(schedule)}
                  disabled={toggle.isPending}
                />
                Active
              </label>
            </li>
          ))}
        </ul>
      )}
      {toggle.isError && <ErrorNotice title="Could not change the schedule" error={toggle.error} />}
      <AddSchedule deploymentId={deploymentId} />
    </Card>
  );
}

function AddSchedule({ deploymentId }: { deploymentId: string }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const kindId = useId();
  const [kind, setKind] = useState<Kind>('cron');
  const [expression, setExpression] = useState('0 9 * * *');
  const [interval, setInterval] = useState('3600');
  const [timezone, setTimezone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');

  const body: ScheduleRequest =
    kind === 'cron'
      ? { kind, cron: expression, timezone }
      : kind === 'interval'
        ? { kind, interval_seconds: Number(interval), timezone }
        : { kind, rrule: expression, timezone };
  const deferred = useDeferredValue(body);

  const preview = useQuery({
    queryKey: ['schedule-preview', ref, deploymentId, deferred],
    queryFn: () => previewSchedule(ref, deploymentId, deferred),
    retry: false,
  });
  const create = useMutation({
    mutationFn: () => createSchedule(ref, deploymentId, body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['schedules', ref, deploymentId] }),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <form className="form form--boxed" onSubmit={submit} aria-label="Add schedule">
      <div className="field">
        <label htmlFor={kindId} className="field__label">
          Kind
        </label>
        <select id={kindId} className="field__input" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          <option value="cron">Cron</option>
          <option value="interval">Interval</option>
          <option value="rrule">RRULE</option>
        </select>
      </div>
      {kind === 'interval' ? (
        <Field label="Every (seconds)" type="number" min={1} value={interval} onChange={(e) => setInterval(e.target.value)} />
      ) : (
        <Field
          label={kind === 'cron' ? 'Cron expression' : 'RRULE'}
          value={expression}
          onChange={(e) => setExpression(e.target.value)}
        />
      )}
      <Field label="Time zone" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
      <div aria-live="polite">
        {preview.isError && <p className="field__error">{preview.error.message}</p>}
        {preview.data && (
          <>
            <p className="field__label">Next runs</p>
            <ul className="plain-list" aria-label="Next runs">
              {preview.data.map((time) => (
                <li key={time}>{formatDateTime(time)}</li>
              ))}
            </ul>
          </>
        )}
      </div>
      {create.isError && <ErrorNotice title="Could not add the schedule" error={create.error} />}
      <Button type="submit" disabled={create.isPending || preview.isError}>
        Add schedule
      </Button>
    </form>
  );
}

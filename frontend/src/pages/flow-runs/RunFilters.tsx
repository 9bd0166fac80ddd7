import { useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { fetchDeployments } from '../../api/deployments';
import type { FlowRunFilters } from '../../api/runs';
import { STATE_TYPES, type StateType } from '../../api/types';
import { Button } from '../../components/Button';
import { useWorkspaceRef } from '../../workspace/workspace';

interface RunFiltersProps {
  filters: FlowRunFilters;
  onChange: (filters: FlowRunFilters) => void;
}

export function RunFilters({ filters, onChange }: RunFiltersProps) {
  const ref = useWorkspaceRef();
  const deployments = useQuery({
    queryKey: ['deployments', ref, 'all'],
    queryFn: () => fetchDeployments(ref),
  });
  const deploymentId = useId();
  const tagId = useId();
  const [tag, setTag] = useState('');

  function toggleState(type: StateType) {
    const stateTypes = filters.stateTypes.includes(type)
      ? filters.stateTypes.filter((t) => t !== type)
      : [...filters.stateTypes, type];
    onChange({ ...filters, stateTypes });
  }

  function addTag(event: FormEvent) {
    event.preventDefault();
    const value = tag.trim();
    if (value && !filters.tags.includes(value)) onChange({ ...filters, tags: [...filters.tags, value] });
    setTag('');
  }

  return (
    <div className="filters">
      <fieldset className="filters__states">
        <legend>State</legend>
        {STATE_TYPES.map((type) => (
          <label key={type} className="checkbox">
            <input type="checkbox" checked={filters.stateTypes.includes(type)} onChange={() => toggleState(type)} />
            {type.charAt(0) + type.slice(1).toLowerCase()}
          </label>
        ))}
      </fieldset>
      <div className="filters__row">
        <div className="field">
          <label htmlFor={deploymentId} className="field__label">
            Deployment
          </label>
          <select
            id={deploymentId}
            className="field__input"
            value={filters.deploymentId}
            onChange={(event) => onChange({ ...filters, deploymentId: event.target.value })}
          >
            <option value="">All deployments</option>
            {deployments.data?.results.map((deployment) => (
              <option key={deployment.id} value={deployment.id}>
                {deployment.flow_name}/{deployment.name}
              </option>
            ))}
          </select>
        </div>
        <form className="field" onSubmit={addTag}>
          <label htmlFor={tagId} className="field__label">
            Tag
          </label>
          <div className="inline">
            <input id={tagId} className="field__input" value={tag} onChange={(event) => setTag(event.target.value)} />
            <Button type="submit">Add tag filter</Button>
          </div>
        </form>
      </div>
      {filters.tags.length > 0 && (
        <ul className="chips" aria-label="Tag filters">
          {filters.tags.map((value) => (
            <li key={value} className="chip">
              {value}
              <button
                type="button"
                className="chip__remove"
                aria-label={`Remove tag filter ${value}`}
                onClick={() => onChange({ ...filters, tags: filters.tags.filter((t) => t !== value) })}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

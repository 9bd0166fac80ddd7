import { useId, type ReactNode } from 'react';

/* A labelled select and textarea, wired for screen readers like components/Field. */

interface ControlProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  hint?: string | undefined;
}

function Described({ id, error, hint, children }: { id: string; error?: string | undefined; hint?: string | undefined; children: ReactNode }) {
  return (
    <>
      {children}
      {hint && (
        <p id={`${id}-hint`} className="field__hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field__error">
          {error}
        </p>
      )}
    </>
  );
}

function describedBy(id: string, error: string | undefined, hint: string | undefined): string | undefined {
  return [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
}

export function Select({ label, value, onChange, error, hint, children }: ControlProps & { children: ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className="field__label">
        {label}
      </label>
      <Described id={id} error={error} hint={hint}>
        <select
          id={id}
          className="field__input"
          value={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, error, hint)}
          onChange={(e) => onChange(e.target.value)}
        >
          {children}
        </select>
      </Described>
    </div>
  );
}

export function TextArea({ label, value, onChange, error, hint }: ControlProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className="field__label">
        {label}
      </label>
      <Described id={id} error={error} hint={hint}>
        <textarea
          id={id}
          className="field__input code"
          rows={4}
          value={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, error, hint)}
          onChange={(e) => onChange(e.target.value)}
        />
      </Described>
    </div>
  );
}

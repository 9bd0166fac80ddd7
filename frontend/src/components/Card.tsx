import { useId, type ReactNode } from 'react';

interface CardProps {
  title: string;
  /** Shown beside the title, e.g. an overall status. */
  aside?: ReactNode;
  children: ReactNode;
}

export function Card({ title, aside, children }: CardProps) {
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId}>
      <header className="card__header">
        <h2 id={headingId} className="card__title">
          {title}
        </h2>
        {aside}
      </header>
      <div className="card__body">{children}</div>
    </section>
  );
}

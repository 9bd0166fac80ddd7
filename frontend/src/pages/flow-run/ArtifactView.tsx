import type { Artifact } from '../../api/types';
import { Markdown, safeHref } from '../../markdown/Markdown';

type Cell = string | number | boolean | null;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Table artifacts are rows of objects or rows of lists (the first being the header). */
function tableOf(data: unknown): { header: string[]; rows: Cell[][] } | null {
  if (!Array.isArray(data) || data.length === 0) return null;
  const rows = data as unknown[];
  if (rows.every((row) => Array.isArray(row))) {
    const [header, ...body] = rows as Cell[][];
    return { header: (header ?? []).map(cellText), rows: body };
  }
  const objects = rows.filter((row): row is Record<string, Cell> => typeof row === 'object' && row !== null);
  const header = [...new Set(objects.flatMap((row) => Object.keys(row)))];
  return { header, rows: objects.map((row) => header.map((column) => row[column] ?? null)) };
}

export function ArtifactView({ artifact }: { artifact: Artifact }) {
  if (artifact.type === 'markdown') return <Markdown source={typeof artifact.data === 'string' ? artifact.data : ''} />;
  if (artifact.type === 'link') {
    const href = typeof artifact.data === 'string' ? safeHref(artifact.data) : null;
    return href ? (
      <a href={href} rel="noopener noreferrer nofollow" target="_blank">
        {href}
      </a>
    ) : (
      <code>{cellText(artifact.data)}</code>
    );
  }
  const table = tableOf(artifact.data);
  if (!table) return <p className="muted">Empty table.</p>;
  return (
    <div className="table-scroll">
      <table className="table">
        <caption className="visually-hidden">{artifact.key ?? 'Table artifact'}</caption>
        <thead>
          <tr>
            {table.header.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, index) => (
            <tr key={index}>
              {row.map((cell, column) => (
                <td key={column}>{cellText(cell)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

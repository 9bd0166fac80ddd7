import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { fetchBlocks, fetchBlockTypes } from '../../api/blocks';
import { ButtonLink } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { formatDateTime } from '../../format/time';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';

/** The workspace's blocks, and the catalogue of types to create new ones from. */
export default function BlocksPage() {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const blocks = useQuery({ queryKey: ['blocks', ref], queryFn: () => fetchBlocks(ref) });
  const types = useQuery({ queryKey: ['block-types', ref], queryFn: () => fetchBlockTypes(ref), staleTime: 60_000 });
  const documents = blocks.data?.results ?? [];

  return (
    <>
      <PageHeader title="Blocks">
        Configuration and credentials your flows and deployments use. Secret fields are stored encrypted and shown
        masked.
      </PageHeader>
      <Card title="Your blocks">
        {blocks.isPending && <Spinner label="Loading blocks…" />}
        {blocks.isError && <ErrorNotice title="Could not load blocks" error={blocks.error} />}
        {blocks.data && documents.length === 0 && (
          <EmptyState title="No blocks yet">
            <p>Pick a type below to store your first credentials or configuration.</p>
          </EmptyState>
        )}
        {documents.length > 0 && (
          <table className="table">
            <caption className="visually-hidden">Blocks</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Reference</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {documents.map((block) => (
                <tr key={block.id}>
                  <td>
                    <Link to={link(`blocks/${block.id}`)}>{block.name}</Link>
                    {block.undecryptable_fields.length > 0 && <div className="field__error">Some fields cannot be decrypted</div>}
                  </td>
                  <td>{block.block_type.name}</td>
                  <td>
                    <code>{`{{ block.${block.block_type.slug}.${block.name} }}`}</code>
                  </td>
                  <td>{formatDateTime(block.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Block types">
        {types.isError && <ErrorNotice title="Could not load block types" error={types.error} />}
        <ul className="block-catalogue" aria-label="Block types">
          {types.data?.results.map((type) => (
            <li key={type.id} className="block-catalogue__item">
              <p className="block-catalogue__name">
                <strong>{type.name}</strong>
                {!type.is_standard && <span className="muted"> · custom</span>}
              </p>
              <p className="muted">{type.description}</p>
              <ButtonLink to={`${link('blocks/new')}?type=${encodeURIComponent(type.slug)}`}>
                New {type.name} <span className="visually-hidden">block</span>
              </ButtonLink>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}

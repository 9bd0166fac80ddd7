import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import {
  createBlock,
  deleteBlock,
  fetchBlock,
  fetchBlockTypes,
  fetchWorkspaceAccess,
  revealBlock,
  updateBlock,
} from '../../api/blocks';
import type { BlockDocument, BlockType } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { initialValues, type FormValues } from '../deployment/parameterForm';
import { ParameterInput } from '../deployment/RunForm';
import { blockFields, buildBlockData } from './blockForm';

/** `blocks/new?type=<slug>` creates a block of that type; `blocks/:blockId` edits one. */
export default function BlockPage() {
  const { blockId } = useParams();
  const [search] = useSearchParams();
  const ref = useWorkspaceRef();
  const types = useQuery({ queryKey: ['block-types', ref], queryFn: () => fetchBlockTypes(ref), staleTime: 60_000 });
  const block = useQuery({
    queryKey: ['blocks', ref, blockId],
    queryFn: () => fetchBlock(ref, blockId ?? ''),
    enabled: Boolean(blockId),
  });
  const slug = block.data?.block_type.slug ?? search.get('type') ?? '';
  const type = types.data?.results.find((candidate) => candidate.slug === slug);

  if (types.isPending || (blockId && block.isPending)) return <Spinner label="Loading the block…" />;
  if (types.isError) return <ErrorNotice title="Could not load block types" error={types.error} />;
  if (block.isError) return <ErrorNotice title="Could not load this block" error={block.error} />;
  if (!type) return <ErrorNotice title="Unknown block type" error={new Error(`No block type "${slug}" here.`)} />;
  // Keyed by the block, so opening another one (or the created one) starts the form afresh;
  // a save keeps the form, and its "Saved" notice, as it is.
  return <BlockEditor key={block.data?.id ?? `new-${type.slug}`} type={type} block={block.data} />;
}

function BlockEditor({ type, block }: { type: BlockType; block: BlockDocument | undefined }) {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const fields = useMemo(() => blockFields(type, block?.data), [type, block?.data]);
  const [name, setName] = useState(block?.name ?? '');
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const access = useQuery({ queryKey: ['access', ref], queryFn: () => fetchWorkspaceAccess(ref), staleTime: 60_000 });
  const canReveal = access.data?.scopes.includes('blocks:reveal') ?? false;

  const save = useMutation({
    mutationFn: (data: Record<string, unknown>) =>
      block
        ? updateBlock(ref, block.id, { name: name.trim(), data })
        : createBlock(ref, { name: name.trim(), block_type_slug: type.slug, data }),
    onSuccess: async (stored) => {
      await queryClient.invalidateQueries({ queryKey: ['blocks', ref] });
      if (!block) await navigate(link(`blocks/${stored.id}`));
      else setSaved(true);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteBlock(ref, block?.id ?? ''),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['blocks', ref] });
      await navigate(link('blocks'));
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const result = buildBlockData(fields, values);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(result.data);
  }

  return (
    <>
      <PageHeader title={block ? block.name : `New ${type.name} block`}>{type.description}</PageHeader>
      <Card title={block ? 'Edit block' : 'Create block'}>
        <form className="form" onSubmit={submit} aria-label={block ? 'Edit block' : 'Create block'} noValidate>
          <Field
            label="Block name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            hint="No spaces, braces or slashes."
          />
          {fields.map((field) => (
            <ParameterInput
              key={field.name}
              field={field}
              secret={field.secret}
              hint={
                field.stored
                  ? 'Stored encrypted. Leave the mask to keep the stored value; type a new value to replace it.'
                  : field.secret
                    ? 'Secret: stored encrypted, shown masked afterwards.'
                    : ''
              }
              value={values[field.name] ?? ''}
              error={errors[field.name]}
              onChange={(value) => {
                setSaved(false);
                setValues((current) => ({ ...current, [field.name]: value }));
              }}
            />
          ))}
          {Object.keys(errors).length > 0 && <FormMessage tone="error">Fix the highlighted fields.</FormMessage>}
          {save.isError && <ErrorNotice title="The block was not saved" error={save.error} />}
          {saved && <FormMessage tone="info">Saved. Secret fields stay masked.</FormMessage>}
          <div className="inline">
            <Button type="submit" variant="primary" disabled={save.isPending}>
              {block ? 'Save block' : 'Create block'}
            </Button>
            {block && (
              <Button
                disabled={remove.isPending}
                onClick={() => {
                  if (window.confirm(`Delete the block ${block.name}?`)) remove.mutate();
                }}
              >
                Delete block
              </Button>
            )}
          </div>
          {remove.isError && <ErrorNotice title="The block was not deleted" error={remove.error} />}
        </form>
      </Card>
      {block && canReveal && type.secret_fields.length > 0 && <RevealCard block={block} />}
    </>
  );
}

/** Plaintext on request, for roles with `blocks:reveal`; the server audits every reveal. */
function RevealCard({ block }: { block: BlockDocument }) {
  const ref = useWorkspaceRef();
  const [shown, setShown] = useState(false);
  const reveal = useMutation({ mutationFn: () => revealBlock(ref, block.id) });
  return (
    <Card title="Secret values">
      <p className="muted">Revealing shows the stored plaintext and is recorded in the audit log.</p>
      {shown && reveal.data ? (
        <>
          <pre className="code-block" aria-label="Revealed values">
            {JSON.stringify(reveal.data.data, null, 2)}
          </pre>
          <Button onClick={() => setShown(false)}>Hide</Button>
        </>
      ) : (
        <Button
          disabled={reveal.isPending}
          onClick={() => {
            setShown(true);
            reveal.mutate();
          }}
        >
          Reveal secrets
        </Button>
      )}
      {reveal.isError && <ErrorNotice title="Could not reveal" error={reveal.error} />}
    </Card>
  );
}

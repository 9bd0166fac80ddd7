import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { apiPost } from '../../api/client';
import { orgPath } from '../../api/tenancy';
import type { Organization, Workspace } from '../../api/types';
import { Button } from '../../components/Button';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { useMe } from '../../workspace/queries';

function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
}

/** `/`: open the first organisation, or create one when the user has none yet. */
export default function HomeRedirectPage() {
  const me = useMe();
  if (me.isPending) return <Spinner label="Loading your organisations…" />;
  if (me.isError) return <ErrorNotice title="Could not load your account" error={me.error} />;
  const first = me.data.organizations[0];
  if (first) return <Navigate to={`/o/${encodeURIComponent(first.slug)}`} replace />;
  return <CreateOrganization />;
}

function CreateOrganization() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [orgName, setOrgName] = useState('');
  const [wsName, setWsName] = useState('Production');
  const create = useMutation({
    mutationFn: async () => {
      const org = await apiPost<Organization>('/api/v1/orgs/', { name: orgName, slug: slugify(orgName) });
      const ws = await apiPost<Workspace>(orgPath(org.slug, 'workspaces/'), { name: wsName, slug: slugify(wsName) });
      return { org, ws };
    },
    onSuccess: async ({ org, ws }) => {
      await queryClient.invalidateQueries({ queryKey: ['me'] });
      await navigate(`/o/${org.slug}/w/${ws.slug}`);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <>
      <PageHeader title="Create your organisation">
        You are not a member of any organisation yet. Create one, or open the invitation link a teammate sent you.
      </PageHeader>
      <form className="form" onSubmit={submit}>
        <Field label="Organisation name" value={orgName} onChange={(e) => setOrgName(e.target.value)} required />
        <Field label="First workspace" value={wsName} onChange={(e) => setWsName(e.target.value)} required />
        {create.isError && <ErrorNotice title="Could not create the organisation" error={create.error} />}
        <Button type="submit" variant="primary" disabled={create.isPending}>
          Create
        </Button>
      </form>
    </>
  );
}

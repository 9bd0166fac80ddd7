import { useQuery } from '@tanstack/react-query';
import { fetchMe, fetchWorkspaces } from '../api/tenancy';

export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: fetchMe, staleTime: 60_000 });
}

export function useWorkspaces(org: string | undefined) {
  return useQuery({
    queryKey: ['orgs', org, 'workspaces'],
    queryFn: () => fetchWorkspaces(org ?? ''),
    enabled: Boolean(org),
    staleTime: 60_000,
  });
}

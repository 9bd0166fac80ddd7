import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { acceptInvitation } from '../../api/tenancy';
import { Button, ButtonLink } from '../../components/Button';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { useSessionUser } from '../../session/session';

export default function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const user = useSessionUser();
  const queryClient = useQueryClient();
  const accept = useMutation({
    mutationFn: () => acceptInvitation(token),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['me'] }),
  });

  return (
    <>
      <PageHeader title="Accept invitation" />
      {!token && <FormMessage tone="error">This invitation link has no token. Open the link from the email again.</FormMessage>}
      {token && !accept.isSuccess && (
        <>
          <p>
            You are signed in as <strong>{user.email}</strong>. Accepting adds this account to the organisation that
            invited you.
          </p>
          <Button variant="primary" onClick={() => accept.mutate()} disabled={accept.isPending}>
            Accept invitation
          </Button>
        </>
      )}
      {accept.isError && <ErrorNotice title="Could not accept the invitation" error={accept.error} />}
      {accept.isSuccess && (
        <>
          <FormMessage tone="info">You joined the organisation as {accept.data.role}.</FormMessage>
          <ButtonLink to="/" variant="primary">
            Continue
          </ButtonLink>
        </>
      )}
    </>
  );
}
